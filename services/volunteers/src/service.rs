//! The gRPC surface: each RPC resolves the caller's scope and hands the
//! request to its module. Errors become statuses in one place.

use cogov_kit::scope::Scope;
use cogov_proto::volunteers::volunteers_service_server::VolunteersService;
use cogov_proto::volunteers::*;

use crate::{
    Volunteers, activities, hours, matching, recognition, signups, teams, timebank, training,
    volunteers,
};

cogov_kit::rpcs! {
    impl VolunteersService for Volunteers;
    scope |svc, principal| Scope::of(principal, &svc.directory).await?;
    read get_volunteer(GetVolunteerRequest) -> Volunteer => volunteers::get;
    read list_volunteers(ListVolunteersRequest) -> ListVolunteersResponse => volunteers::list;
    act create_volunteer(CreateVolunteerRequest) -> Volunteer => volunteers::create;
    read update_volunteer(UpdateVolunteerRequest) -> Volunteer => volunteers::update;

    read get_team(GetTeamRequest) -> Team => teams::get;
    read list_teams(ListTeamsRequest) -> ListTeamsResponse => teams::list;
    act create_team(CreateTeamRequest) -> Team => teams::create;
    read update_team(UpdateTeamRequest) -> Team => teams::update;
    read delete_team(DeleteTeamRequest) -> () => teams::delete;
    act create_team_member(CreateTeamMemberRequest) -> TeamMember => teams::create_member;
    read list_team_members(ListTeamMembersRequest) -> ListTeamMembersResponse => teams::list_members;
    read update_team_member(UpdateTeamMemberRequest) -> TeamMember => teams::update_member;
    read delete_team_member(DeleteTeamMemberRequest) -> () => teams::delete_member;

    read get_course(GetCourseRequest) -> Course => training::get;
    read list_courses(ListCoursesRequest) -> ListCoursesResponse => training::list;
    act create_course(CreateCourseRequest) -> Course => training::create;
    read update_course(UpdateCourseRequest) -> Course => training::update;
    act create_completion(CreateCompletionRequest) -> Completion => training::create_completion;
    read list_completions(ListCompletionsRequest) -> ListCompletionsResponse => training::list_completions;

    read get_activity(GetActivityRequest) -> Activity => activities::get;
    read list_activities(ListActivitiesRequest) -> ListActivitiesResponse => activities::list;
    act create_activity(CreateActivityRequest) -> Activity => activities::create;
    read update_activity(UpdateActivityRequest) -> Activity => activities::update;
    read delete_activity(DeleteActivityRequest) -> () => activities::delete;
    read publish_activity(PublishActivityRequest) -> Activity => activities::publish;
    read start_activity(StartActivityRequest) -> Activity => activities::start;
    read complete_activity(CompleteActivityRequest) -> Activity => activities::complete;
    read cancel_activity(CancelActivityRequest) -> Activity => activities::cancel;

    act create_signup(CreateSignupRequest) -> Signup => signups::create;
    read get_signup(GetSignupRequest) -> Signup => signups::get;
    read list_signups(ListSignupsRequest) -> ListSignupsResponse => signups::list;
    read cancel_signup(CancelSignupRequest) -> Signup => signups::cancel;
    read check_in_signup(CheckInSignupRequest) -> Signup => signups::check_in;
    read check_out_signup(CheckOutSignupRequest) -> Signup => signups::check_out;

    act create_service_record(CreateServiceRecordRequest) -> ServiceRecord => hours::create;
    read get_service_record(GetServiceRecordRequest) -> ServiceRecord => hours::get;
    read list_service_records(ListServiceRecordsRequest) -> ListServiceRecordsResponse => hours::list;
    act approve_service_record(ApproveServiceRecordRequest) -> ServiceRecord => hours::approve;
    act reject_service_record(RejectServiceRecordRequest) -> ServiceRecord => hours::reject;

    read get_time_bank_policy(GetTimeBankPolicyRequest) -> TimeBankPolicy => timebank::get_policy;
    read update_time_bank_policy(UpdateTimeBankPolicyRequest) -> TimeBankPolicy => timebank::update_policy;
    read get_points_account(GetPointsAccountRequest) -> PointsAccount => timebank::get_account;
    read list_points_entries(ListPointsEntriesRequest) -> ListPointsEntriesResponse => timebank::list_entries;
    act redeem_points(RedeemPointsRequest) -> PointsEntry => timebank::redeem;

    act create_commendation(CreateCommendationRequest) -> Commendation => recognition::create;
    read list_commendations(ListCommendationsRequest) -> ListCommendationsResponse => recognition::list;
    read list_badges(ListBadgesRequest) -> ListBadgesResponse => recognition::list_badges;

    read match_volunteers(MatchVolunteersRequest) -> MatchVolunteersResponse => matching::find;
    read compute_volunteer_hours(ComputeVolunteerHoursRequest) -> ComputeVolunteerHoursResponse => hours::compute;
}
