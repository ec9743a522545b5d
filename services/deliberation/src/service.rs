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
    read get_council(GetCouncilRequest) -> Council => councils::get;
    read list_councils(ListCouncilsRequest) -> ListCouncilsResponse => councils::list;
    act create_council(CreateCouncilRequest) -> Council => councils::create;
    read update_council(UpdateCouncilRequest) -> Council => councils::update;
    read delete_council(DeleteCouncilRequest) -> () => councils::delete;
    read check_council_composition(CheckCouncilCompositionRequest) -> CompositionReport => councils::check_composition;
    read get_council_statistics(GetCouncilStatisticsRequest) -> CouncilStatistics => councils::statistics;

    read get_seat(GetSeatRequest) -> Seat => seats::get;
    read list_seats(ListSeatsRequest) -> ListSeatsResponse => seats::list;
    act create_seat(CreateSeatRequest) -> Seat => seats::create;
    read update_seat(UpdateSeatRequest) -> Seat => seats::update;
    read delete_seat(DeleteSeatRequest) -> () => seats::delete;

    read get_topic(GetTopicRequest) -> Topic => topics::get;
    read list_topics(ListTopicsRequest) -> ListTopicsResponse => topics::list;
    act create_topic(CreateTopicRequest) -> Topic => topics::create;
    read update_topic(UpdateTopicRequest) -> Topic => topics::update;
    read support_topic(SupportTopicRequest) -> Topic => topics::support;
    read schedule_topic(ScheduleTopicRequest) -> Topic => topics::schedule;
    read open_topic_discussion(OpenTopicDiscussionRequest) -> Topic => topics::open_discussion;
    read reject_topic(RejectTopicRequest) -> Topic => topics::reject;
    read withdraw_topic(WithdrawTopicRequest) -> Topic => topics::withdraw;
    read complete_topic(CompleteTopicRequest) -> Topic => topics::complete;

    act create_opinion(CreateOpinionRequest) -> Opinion => opinions::create;
    read list_opinions(ListOpinionsRequest) -> ListOpinionsResponse => opinions::list;
    read hide_opinion(HideOpinionRequest) -> Opinion => opinions::hide;

    read get_meeting(GetMeetingRequest) -> Meeting => meetings::get;
    read list_meetings(ListMeetingsRequest) -> ListMeetingsResponse => meetings::list;
    act create_meeting(CreateMeetingRequest) -> Meeting => meetings::create;
    read update_meeting(UpdateMeetingRequest) -> Meeting => meetings::update;
    read start_meeting(StartMeetingRequest) -> Meeting => meetings::start;
    read end_meeting(EndMeetingRequest) -> Meeting => meetings::end;
    read cancel_meeting(CancelMeetingRequest) -> Meeting => meetings::cancel;
    act create_attendance(CreateAttendanceRequest) -> Attendance => attendance::create;
    read list_attendances(ListAttendancesRequest) -> ListAttendancesResponse => attendance::list;
    read check_quorum(CheckQuorumRequest) -> QuorumReport => attendance::check_quorum;

    read get_poll(GetPollRequest) -> Poll => polls::get;
    read list_polls(ListPollsRequest) -> ListPollsResponse => polls::list;
    act create_poll(CreatePollRequest) -> Poll => polls::create;
    read update_poll(UpdatePollRequest) -> Poll => polls::update;
    read open_poll(OpenPollRequest) -> Poll => polls::open;
    read close_poll(ClosePollRequest) -> Poll => polls::close;
    act cast_vote(CastVoteRequest) -> Ballot => ballots::cast;
    read list_ballots(ListBallotsRequest) -> ListBallotsResponse => ballots::list;
    act create_offline_tally(CreateOfflineTallyRequest) -> OfflineTally => ballots::create_offline_tally;
    read get_poll_result(GetPollResultRequest) -> PollResult => ballots::result;

    read get_resolution(GetResolutionRequest) -> Resolution => resolutions::get;
    read list_resolutions(ListResolutionsRequest) -> ListResolutionsResponse => resolutions::list;
    act create_resolution(CreateResolutionRequest) -> Resolution => resolutions::create;
    read update_resolution(UpdateResolutionRequest) -> Resolution => resolutions::update;
    read get_action_item(GetActionItemRequest) -> ActionItem => action_items::get;
    read list_action_items(ListActionItemsRequest) -> ListActionItemsResponse => action_items::list;
    act create_action_item(CreateActionItemRequest) -> ActionItem => action_items::create;
    read update_action_item(UpdateActionItemRequest) -> ActionItem => action_items::update;
}
