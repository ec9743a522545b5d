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
    scoped get_volunteer(GetVolunteerRequest) -> Volunteer => volunteers::get;
    scoped list_volunteers(ListVolunteersRequest) -> ListVolunteersResponse => volunteers::list;
    authored create_volunteer(CreateVolunteerRequest) -> Volunteer => volunteers::create;
    scoped update_volunteer(UpdateVolunteerRequest) -> Volunteer => volunteers::update;

    scoped get_team(GetTeamRequest) -> Team => teams::get;
    scoped list_teams(ListTeamsRequest) -> ListTeamsResponse => teams::list;
    authored create_team(CreateTeamRequest) -> Team => teams::create;
    scoped update_team(UpdateTeamRequest) -> Team => teams::update;
    scoped delete_team(DeleteTeamRequest) -> () => teams::delete;
    authored create_team_member(CreateTeamMemberRequest) -> TeamMember => teams::create_member;
    scoped list_team_members(ListTeamMembersRequest) -> ListTeamMembersResponse => teams::list_members;
    scoped update_team_member(UpdateTeamMemberRequest) -> TeamMember => teams::update_member;
    scoped delete_team_member(DeleteTeamMemberRequest) -> () => teams::delete_member;

    scoped get_course(GetCourseRequest) -> Course => training::get;
    scoped list_courses(ListCoursesRequest) -> ListCoursesResponse => training::list;
    authored create_course(CreateCourseRequest) -> Course => training::create;
    scoped update_course(UpdateCourseRequest) -> Course => training::update;
    authored create_completion(CreateCompletionRequest) -> Completion => training::create_completion;
    scoped list_completions(ListCompletionsRequest) -> ListCompletionsResponse => training::list_completions;

    scoped get_activity(GetActivityRequest) -> Activity => activities::get;
    scoped list_activities(ListActivitiesRequest) -> ListActivitiesResponse => activities::list;
    authored create_activity(CreateActivityRequest) -> Activity => activities::create;
    scoped update_activity(UpdateActivityRequest) -> Activity => activities::update;
    scoped delete_activity(DeleteActivityRequest) -> () => activities::delete;
    scoped publish_activity(PublishActivityRequest) -> Activity => activities::publish;
    scoped start_activity(StartActivityRequest) -> Activity => activities::start;
    scoped complete_activity(CompleteActivityRequest) -> Activity => activities::complete;
    scoped cancel_activity(CancelActivityRequest) -> Activity => activities::cancel;

    authored create_signup(CreateSignupRequest) -> Signup => signups::create;
    scoped get_signup(GetSignupRequest) -> Signup => signups::get;
    scoped list_signups(ListSignupsRequest) -> ListSignupsResponse => signups::list;
    scoped cancel_signup(CancelSignupRequest) -> Signup => signups::cancel;
    scoped check_in_signup(CheckInSignupRequest) -> Signup => signups::check_in;
    scoped check_out_signup(CheckOutSignupRequest) -> Signup => signups::check_out;

    authored create_service_record(CreateServiceRecordRequest) -> ServiceRecord => hours::create;
    scoped get_service_record(GetServiceRecordRequest) -> ServiceRecord => hours::get;
    scoped list_service_records(ListServiceRecordsRequest) -> ListServiceRecordsResponse => hours::list;
    authored approve_service_record(ApproveServiceRecordRequest) -> ServiceRecord => hours::approve;
    authored reject_service_record(RejectServiceRecordRequest) -> ServiceRecord => hours::reject;

    scoped get_time_bank_policy(GetTimeBankPolicyRequest) -> TimeBankPolicy => timebank::get_policy;
    scoped update_time_bank_policy(UpdateTimeBankPolicyRequest) -> TimeBankPolicy => timebank::update_policy;
    scoped get_points_account(GetPointsAccountRequest) -> PointsAccount => timebank::get_account;
    scoped list_points_entries(ListPointsEntriesRequest) -> ListPointsEntriesResponse => timebank::list_entries;
    authored redeem_points(RedeemPointsRequest) -> PointsEntry => timebank::redeem;

    authored create_commendation(CreateCommendationRequest) -> Commendation => recognition::create;
    scoped list_commendations(ListCommendationsRequest) -> ListCommendationsResponse => recognition::list;
    scoped list_badges(ListBadgesRequest) -> ListBadgesResponse => recognition::list_badges;

    scoped match_volunteers(MatchVolunteersRequest) -> MatchVolunteersResponse => matching::find;
    scoped compute_volunteer_hours(ComputeVolunteerHoursRequest) -> ComputeVolunteerHoursResponse => hours::compute;
}
