//! The gRPC surface: each RPC resolves the caller's scope and hands the
//! request to its resource module. Errors become statuses in one place,
//! `From<cogov_kit::Error> for Status`.

use cogov_proto::organizations::organizations_service_server::OrganizationsService;
use cogov_proto::organizations::*;

use crate::access::Scope;
use crate::{
    Organizations, agreements, buildings, communities, courtyards, hierarchy, memberships,
    organizations, persons, reach, shared_resources, streets, talents,
};

cogov_kit::rpcs! {
    impl OrganizationsService for Organizations;
    scope |svc, principal| Scope::of(svc.ctx.db.read(), principal, &svc.ctx.clock).await?;
    read get_street(GetStreetRequest) -> Street => streets::get;
    read list_streets(ListStreetsRequest) -> ListStreetsResponse => streets::list;
    act create_street(CreateStreetRequest) -> Street => streets::create;
    read update_street(UpdateStreetRequest) -> Street => streets::update;
    read delete_street(DeleteStreetRequest) -> () => streets::delete;

    read get_community(GetCommunityRequest) -> Community => communities::get;
    read list_communities(ListCommunitiesRequest) -> ListCommunitiesResponse => communities::list;
    act create_community(CreateCommunityRequest) -> Community => communities::create;
    read update_community(UpdateCommunityRequest) -> Community => communities::update;
    read delete_community(DeleteCommunityRequest) -> () => communities::delete;

    read get_courtyard(GetCourtyardRequest) -> Courtyard => courtyards::get;
    read list_courtyards(ListCourtyardsRequest) -> ListCourtyardsResponse => courtyards::list;
    act create_courtyard(CreateCourtyardRequest) -> Courtyard => courtyards::create;
    read update_courtyard(UpdateCourtyardRequest) -> Courtyard => courtyards::update;
    read delete_courtyard(DeleteCourtyardRequest) -> () => courtyards::delete;

    read get_building(GetBuildingRequest) -> Building => buildings::get;
    read list_buildings(ListBuildingsRequest) -> ListBuildingsResponse => buildings::list;
    act create_building(CreateBuildingRequest) -> Building => buildings::create;
    read update_building(UpdateBuildingRequest) -> Building => buildings::update;
    read delete_building(DeleteBuildingRequest) -> () => buildings::delete;

    read list_descendants(ListDescendantsRequest) -> ListDescendantsResponse => hierarchy::list;

    read get_organization(GetOrganizationRequest) -> Organization => organizations::get;
    read list_organizations(ListOrganizationsRequest) -> ListOrganizationsResponse => organizations::list;
    act create_organization(CreateOrganizationRequest) -> Organization => organizations::create;
    read update_organization(UpdateOrganizationRequest) -> Organization => organizations::update;
    read delete_organization(DeleteOrganizationRequest) -> () => organizations::delete;

    read get_person(GetPersonRequest) -> Person => persons::get;
    read list_persons(ListPersonsRequest) -> ListPersonsResponse => persons::list;
    act create_person(CreatePersonRequest) -> Person => persons::create;
    read update_person(UpdatePersonRequest) -> Person => persons::update;
    read delete_person(DeletePersonRequest) -> () => persons::delete;
    act register_person(RegisterPersonRequest) -> Person => persons::register;
    read verify_person(VerifyPersonRequest) -> Person => persons::verify;
    act erase_person(ErasePersonRequest) -> Person => persons::erase;

    read get_membership(GetMembershipRequest) -> Membership => memberships::get;
    read list_memberships(ListMembershipsRequest) -> ListMembershipsResponse => memberships::list;
    act create_membership(CreateMembershipRequest) -> Membership => memberships::create;
    read update_membership(UpdateMembershipRequest) -> Membership => memberships::update;
    read delete_membership(DeleteMembershipRequest) -> () => memberships::delete;

    read get_agreement(GetAgreementRequest) -> Agreement => agreements::get;
    read list_agreements(ListAgreementsRequest) -> ListAgreementsResponse => agreements::list;
    act create_agreement(CreateAgreementRequest) -> Agreement => agreements::create;
    read update_agreement(UpdateAgreementRequest) -> Agreement => agreements::update;
    read terminate_agreement(TerminateAgreementRequest) -> Agreement => agreements::terminate;
    read delete_agreement(DeleteAgreementRequest) -> () => agreements::delete;

    read resolve_reach(ResolveReachRequest) -> Reach => reach::resolve_rpc;

    read get_shared_resource(GetSharedResourceRequest) -> SharedResource => shared_resources::get;
    read list_shared_resources(ListSharedResourcesRequest) -> ListSharedResourcesResponse => shared_resources::list;
    act create_shared_resource(CreateSharedResourceRequest) -> SharedResource => shared_resources::create;
    read update_shared_resource(UpdateSharedResourceRequest) -> SharedResource => shared_resources::update;
    read delete_shared_resource(DeleteSharedResourceRequest) -> () => shared_resources::delete;

    read get_talent(GetTalentRequest) -> Talent => talents::get;
    read list_talents(ListTalentsRequest) -> ListTalentsResponse => talents::list;
    act create_talent(CreateTalentRequest) -> Talent => talents::create;
    read update_talent(UpdateTalentRequest) -> Talent => talents::update;
    read delete_talent(DeleteTalentRequest) -> () => talents::delete;
}
