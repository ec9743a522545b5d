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
    scoped get_category(GetCategoryRequest) -> Category => taxonomy::get_category;
    scoped list_categories(ListCategoriesRequest) -> ListCategoriesResponse => taxonomy::list_categories;
    authored create_category(CreateCategoryRequest) -> Category => taxonomy::create_category;
    scoped update_category(UpdateCategoryRequest) -> Category => taxonomy::update_category;
    scoped get_sub_item(GetSubItemRequest) -> SubItem => taxonomy::get_sub_item;
    scoped list_sub_items(ListSubItemsRequest) -> ListSubItemsResponse => taxonomy::list_sub_items;
    authored create_sub_item(CreateSubItemRequest) -> SubItem => taxonomy::create_sub_item;
    scoped update_sub_item(UpdateSubItemRequest) -> SubItem => taxonomy::update_sub_item;

    authored report_issue(ReportIssueRequest) -> Issue => issues::report;
    scoped get_issue(GetIssueRequest) -> Issue => issues::get;
    scoped list_issues(ListIssuesRequest) -> ListIssuesResponse => issues::list;
    authored update_issue(UpdateIssueRequest) -> Issue => issues::update;

    authored acknowledge_issue(AcknowledgeIssueRequest) -> Issue => transitions::acknowledge;
    authored dispatch_issue(DispatchIssueRequest) -> Issue => transitions::dispatch;
    authored joint_dispatch_issue(JointDispatchIssueRequest) -> Issue => transitions::joint_dispatch;
    authored check_in_issue(CheckInIssueRequest) -> Issue => transitions::check_in;
    authored return_issue(ReturnIssueRequest) -> Issue => transitions::return_issue;
    authored start_issue(StartIssueRequest) -> Issue => transitions::start;
    authored resolve_issue(ResolveIssueRequest) -> Issue => transitions::resolve;
    authored confirm_issue(ConfirmIssueRequest) -> Issue => transitions::confirm;
    authored reopen_issue(ReopenIssueRequest) -> Issue => transitions::reopen;
    scoped follow_issue(FollowIssueRequest) -> Issue => follows::follow;
    scoped unfollow_issue(UnfollowIssueRequest) -> Issue => follows::unfollow;
    authored reject_issue(RejectIssueRequest) -> Issue => transitions::reject;
    authored mark_duplicate_issue(MarkDuplicateIssueRequest) -> Issue => transitions::mark_duplicate;
    authored escalate_issue(EscalateIssueRequest) -> Issue => transitions::escalate;

    authored create_issue_comment(CreateIssueCommentRequest) -> IssueUpdate => timeline::comment;
    scoped list_issue_updates(ListIssueUpdatesRequest) -> ListIssueUpdatesResponse => timeline::list;

    scoped find_similar_issues(FindSimilarIssuesRequest) -> FindSimilarIssuesResponse => issues::find_similar;

    scoped get_issue_cluster(GetIssueClusterRequest) -> IssueCluster => clusters::get;
    scoped list_issue_clusters(ListIssueClustersRequest) -> ListIssueClustersResponse => clusters::list;
    authored escalate_issue_cluster(EscalateIssueClusterRequest) -> IssueCluster => clusters::escalate;
    authored dismiss_issue_cluster(DismissIssueClusterRequest) -> IssueCluster => clusters::dismiss;

    authored create_inspection(CreateInspectionRequest) -> Inspection => inspections::create;
    scoped get_inspection(GetInspectionRequest) -> Inspection => inspections::get;
    scoped list_inspections(ListInspectionsRequest) -> ListInspectionsResponse => inspections::list;

    scoped get_courtyard_two_nos(GetCourtyardTwoNosRequest) -> CourtyardTwoNos => two_nos::get;
    scoped list_courtyard_two_nos(ListCourtyardTwoNosRequest) -> ListCourtyardTwoNosResponse => two_nos::list;

    scoped compute_issue_statistics(ComputeIssueStatisticsRequest) -> ComputeIssueStatisticsResponse => statistics::compute;
}
