//! The gRPC surface: each RPC resolves the caller's scope and hands the
//! request to its module. Errors become statuses in one place,
//! `From<cogov_kit::Error> for Status`.

use cogov_kit::scope::Scope;
use cogov_proto::issues::issues_service_server::IssuesService;
use cogov_proto::issues::*;

use crate::{
    Issues, clusters, follows, inspections, issues, statistics, taxonomy, timeline, transitions,
    two_nos,
};

cogov_kit::rpcs! {
    impl IssuesService for Issues;
    scope |svc, principal| Scope::of(principal, &svc.directory).await?;
    read get_category(GetCategoryRequest) -> Category => taxonomy::get_category;
    read list_categories(ListCategoriesRequest) -> ListCategoriesResponse => taxonomy::list_categories;
    act create_category(CreateCategoryRequest) -> Category => taxonomy::create_category;
    read update_category(UpdateCategoryRequest) -> Category => taxonomy::update_category;
    read get_sub_item(GetSubItemRequest) -> SubItem => taxonomy::get_sub_item;
    read list_sub_items(ListSubItemsRequest) -> ListSubItemsResponse => taxonomy::list_sub_items;
    act create_sub_item(CreateSubItemRequest) -> SubItem => taxonomy::create_sub_item;
    read update_sub_item(UpdateSubItemRequest) -> SubItem => taxonomy::update_sub_item;

    act report_issue(ReportIssueRequest) -> Issue => issues::report;
    read get_issue(GetIssueRequest) -> Issue => issues::get;
    read list_issues(ListIssuesRequest) -> ListIssuesResponse => issues::list;
    act update_issue(UpdateIssueRequest) -> Issue => issues::update;

    act acknowledge_issue(AcknowledgeIssueRequest) -> Issue => transitions::acknowledge;
    act dispatch_issue(DispatchIssueRequest) -> Issue => transitions::dispatch;
    act joint_dispatch_issue(JointDispatchIssueRequest) -> Issue => transitions::joint_dispatch;
    act check_in_issue(CheckInIssueRequest) -> Issue => transitions::check_in;
    act return_issue(ReturnIssueRequest) -> Issue => transitions::return_issue;
    act start_issue(StartIssueRequest) -> Issue => transitions::start;
    act resolve_issue(ResolveIssueRequest) -> Issue => transitions::resolve;
    act confirm_issue(ConfirmIssueRequest) -> Issue => transitions::confirm;
    act reopen_issue(ReopenIssueRequest) -> Issue => transitions::reopen;
    read follow_issue(FollowIssueRequest) -> Issue => follows::follow;
    read unfollow_issue(UnfollowIssueRequest) -> Issue => follows::unfollow;
    act reject_issue(RejectIssueRequest) -> Issue => transitions::reject;
    act mark_duplicate_issue(MarkDuplicateIssueRequest) -> Issue => transitions::mark_duplicate;
    act escalate_issue(EscalateIssueRequest) -> Issue => transitions::escalate;

    act create_issue_comment(CreateIssueCommentRequest) -> IssueUpdate => timeline::comment;
    read list_issue_updates(ListIssueUpdatesRequest) -> ListIssueUpdatesResponse => timeline::list;

    read find_similar_issues(FindSimilarIssuesRequest) -> FindSimilarIssuesResponse => issues::find_similar;

    read get_issue_cluster(GetIssueClusterRequest) -> IssueCluster => clusters::get;
    read list_issue_clusters(ListIssueClustersRequest) -> ListIssueClustersResponse => clusters::list;
    act escalate_issue_cluster(EscalateIssueClusterRequest) -> IssueCluster => clusters::escalate;
    act dismiss_issue_cluster(DismissIssueClusterRequest) -> IssueCluster => clusters::dismiss;

    act create_inspection(CreateInspectionRequest) -> Inspection => inspections::create;
    read get_inspection(GetInspectionRequest) -> Inspection => inspections::get;
    read list_inspections(ListInspectionsRequest) -> ListInspectionsResponse => inspections::list;

    read get_courtyard_two_nos(GetCourtyardTwoNosRequest) -> CourtyardTwoNos => two_nos::get;
    read list_courtyard_two_nos(ListCourtyardTwoNosRequest) -> ListCourtyardTwoNosResponse => two_nos::list;

    read compute_issue_statistics(ComputeIssueStatisticsRequest) -> ComputeIssueStatisticsResponse => statistics::compute;
}
