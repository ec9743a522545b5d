//! The gRPC surface: each RPC resolves the caller (scope, home, seats) and
//! hands the request to its module. Errors become statuses in one place,
//! `From<cogov_kit::Error> for Status`.

use cogov_proto::deliberation::deliberation_service_server::DeliberationService;
use cogov_proto::deliberation::*;

use crate::access::Caller;
use crate::{
    Deliberation, action_items, attendance, ballots, councils, meetings, opinions, polls,
    resolutions, seats, topics,
};

cogov_kit::rpcs! {
    impl DeliberationService for Deliberation;
    scope |svc, principal| Caller::of(svc, principal).await?;
    scoped get_council(GetCouncilRequest) -> Council => councils::get;
    scoped list_councils(ListCouncilsRequest) -> ListCouncilsResponse => councils::list;
    authored create_council(CreateCouncilRequest) -> Council => councils::create;
    scoped update_council(UpdateCouncilRequest) -> Council => councils::update;
    scoped delete_council(DeleteCouncilRequest) -> () => councils::delete;
    scoped check_council_composition(CheckCouncilCompositionRequest) -> CompositionReport => councils::check_composition;
    scoped get_council_statistics(GetCouncilStatisticsRequest) -> CouncilStatistics => councils::statistics;

    scoped get_seat(GetSeatRequest) -> Seat => seats::get;
    scoped list_seats(ListSeatsRequest) -> ListSeatsResponse => seats::list;
    authored create_seat(CreateSeatRequest) -> Seat => seats::create;
    scoped update_seat(UpdateSeatRequest) -> Seat => seats::update;
    scoped delete_seat(DeleteSeatRequest) -> () => seats::delete;

    scoped get_topic(GetTopicRequest) -> Topic => topics::get;
    scoped list_topics(ListTopicsRequest) -> ListTopicsResponse => topics::list;
    authored create_topic(CreateTopicRequest) -> Topic => topics::create;
    scoped update_topic(UpdateTopicRequest) -> Topic => topics::update;
    scoped support_topic(SupportTopicRequest) -> Topic => topics::support;
    scoped schedule_topic(ScheduleTopicRequest) -> Topic => topics::schedule;
    scoped open_topic_discussion(OpenTopicDiscussionRequest) -> Topic => topics::open_discussion;
    scoped reject_topic(RejectTopicRequest) -> Topic => topics::reject;
    scoped withdraw_topic(WithdrawTopicRequest) -> Topic => topics::withdraw;
    scoped complete_topic(CompleteTopicRequest) -> Topic => topics::complete;

    authored create_opinion(CreateOpinionRequest) -> Opinion => opinions::create;
    scoped list_opinions(ListOpinionsRequest) -> ListOpinionsResponse => opinions::list;
    scoped hide_opinion(HideOpinionRequest) -> Opinion => opinions::hide;

    scoped get_meeting(GetMeetingRequest) -> Meeting => meetings::get;
    scoped list_meetings(ListMeetingsRequest) -> ListMeetingsResponse => meetings::list;
    authored create_meeting(CreateMeetingRequest) -> Meeting => meetings::create;
    scoped update_meeting(UpdateMeetingRequest) -> Meeting => meetings::update;
    scoped start_meeting(StartMeetingRequest) -> Meeting => meetings::start;
    scoped end_meeting(EndMeetingRequest) -> Meeting => meetings::end;
    scoped cancel_meeting(CancelMeetingRequest) -> Meeting => meetings::cancel;
    authored create_attendance(CreateAttendanceRequest) -> Attendance => attendance::create;
    scoped list_attendances(ListAttendancesRequest) -> ListAttendancesResponse => attendance::list;
    scoped check_quorum(CheckQuorumRequest) -> QuorumReport => attendance::check_quorum;

    scoped get_poll(GetPollRequest) -> Poll => polls::get;
    scoped list_polls(ListPollsRequest) -> ListPollsResponse => polls::list;
    authored create_poll(CreatePollRequest) -> Poll => polls::create;
    scoped update_poll(UpdatePollRequest) -> Poll => polls::update;
    scoped open_poll(OpenPollRequest) -> Poll => polls::open;
    scoped close_poll(ClosePollRequest) -> Poll => polls::close;
    authored cast_vote(CastVoteRequest) -> Ballot => ballots::cast;
    scoped list_ballots(ListBallotsRequest) -> ListBallotsResponse => ballots::list;
    authored create_offline_tally(CreateOfflineTallyRequest) -> OfflineTally => ballots::create_offline_tally;
    scoped get_poll_result(GetPollResultRequest) -> PollResult => ballots::result;

    scoped get_resolution(GetResolutionRequest) -> Resolution => resolutions::get;
    scoped list_resolutions(ListResolutionsRequest) -> ListResolutionsResponse => resolutions::list;
    authored create_resolution(CreateResolutionRequest) -> Resolution => resolutions::create;
    scoped update_resolution(UpdateResolutionRequest) -> Resolution => resolutions::update;
    scoped get_action_item(GetActionItemRequest) -> ActionItem => action_items::get;
    scoped list_action_items(ListActionItemsRequest) -> ListActionItemsResponse => action_items::list;
    authored create_action_item(CreateActionItemRequest) -> ActionItem => action_items::create;
    scoped update_action_item(UpdateActionItemRequest) -> ActionItem => action_items::update;
}
