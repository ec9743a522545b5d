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
    scoped get_street(GetStreetRequest) -> Street => streets::get;
    scoped list_streets(ListStreetsRequest) -> ListStreetsResponse => streets::list;
    authored create_street(CreateStreetRequest) -> Street => streets::create;
    scoped update_street(UpdateStreetRequest) -> Street => streets::update;
    scoped delete_street(DeleteStreetRequest) -> () => streets::delete;

    scoped get_community(GetCommunityRequest) -> Community => communities::get;
    scoped list_communities(ListCommunitiesRequest) -> ListCommunitiesResponse => communities::list;
    authored create_community(CreateCommunityRequest) -> Community => communities::create;
    scoped update_community(UpdateCommunityRequest) -> Community => communities::update;
    scoped delete_community(DeleteCommunityRequest) -> () => communities::delete;

    scoped get_courtyard(GetCourtyardRequest) -> Courtyard => courtyards::get;
    scoped list_courtyards(ListCourtyardsRequest) -> ListCourtyardsResponse => courtyards::list;
    authored create_courtyard(CreateCourtyardRequest) -> Courtyard => courtyards::create;
    scoped update_courtyard(UpdateCourtyardRequest) -> Courtyard => courtyards::update;
    scoped delete_courtyard(DeleteCourtyardRequest) -> () => courtyards::delete;

    scoped get_building(GetBuildingRequest) -> Building => buildings::get;
    scoped list_buildings(ListBuildingsRequest) -> ListBuildingsResponse => buildings::list;
    authored create_building(CreateBuildingRequest) -> Building => buildings::create;
    scoped update_building(UpdateBuildingRequest) -> Building => buildings::update;
    scoped delete_building(DeleteBuildingRequest) -> () => buildings::delete;

    scoped list_descendants(ListDescendantsRequest) -> ListDescendantsResponse => hierarchy::list;

    scoped get_organization(GetOrganizationRequest) -> Organization => organizations::get;
    scoped list_organizations(ListOrganizationsRequest) -> ListOrganizationsResponse => organizations::list;
    authored create_organization(CreateOrganizationRequest) -> Organization => organizations::create;
    scoped update_organization(UpdateOrganizationRequest) -> Organization => organizations::update;
    scoped delete_organization(DeleteOrganizationRequest) -> () => organizations::delete;

    scoped get_person(GetPersonRequest) -> Person => persons::get;
    scoped list_persons(ListPersonsRequest) -> ListPersonsResponse => persons::list;
    authored create_person(CreatePersonRequest) -> Person => persons::create;
    scoped update_person(UpdatePersonRequest) -> Person => persons::update;
    scoped delete_person(DeletePersonRequest) -> () => persons::delete;
    authored register_person(RegisterPersonRequest) -> Person => persons::register;
    scoped verify_person(VerifyPersonRequest) -> Person => persons::verify;
    authored erase_person(ErasePersonRequest) -> Person => persons::erase;

    scoped get_membership(GetMembershipRequest) -> Membership => memberships::get;
    scoped list_memberships(ListMembershipsRequest) -> ListMembershipsResponse => memberships::list;
    authored create_membership(CreateMembershipRequest) -> Membership => memberships::create;
    scoped update_membership(UpdateMembershipRequest) -> Membership => memberships::update;
    scoped delete_membership(DeleteMembershipRequest) -> () => memberships::delete;

    scoped get_agreement(GetAgreementRequest) -> Agreement => agreements::get;
    scoped list_agreements(ListAgreementsRequest) -> ListAgreementsResponse => agreements::list;
    authored create_agreement(CreateAgreementRequest) -> Agreement => agreements::create;
    scoped update_agreement(UpdateAgreementRequest) -> Agreement => agreements::update;
    scoped terminate_agreement(TerminateAgreementRequest) -> Agreement => agreements::terminate;
    scoped delete_agreement(DeleteAgreementRequest) -> () => agreements::delete;

    scoped resolve_reach(ResolveReachRequest) -> Reach => reach::resolve_rpc;

    scoped get_shared_resource(GetSharedResourceRequest) -> SharedResource => shared_resources::get;
    scoped list_shared_resources(ListSharedResourcesRequest) -> ListSharedResourcesResponse => shared_resources::list;
    authored create_shared_resource(CreateSharedResourceRequest) -> SharedResource => shared_resources::create;
    scoped update_shared_resource(UpdateSharedResourceRequest) -> SharedResource => shared_resources::update;
    scoped delete_shared_resource(DeleteSharedResourceRequest) -> () => shared_resources::delete;

    scoped get_talent(GetTalentRequest) -> Talent => talents::get;
    scoped list_talents(ListTalentsRequest) -> ListTalentsResponse => talents::list;
    authored create_talent(CreateTalentRequest) -> Talent => talents::create;
    scoped update_talent(UpdateTalentRequest) -> Talent => talents::update;
    scoped delete_talent(DeleteTalentRequest) -> () => talents::delete;
}
