"""The gRPC contracts from Python: stubs generated from proto/ by
grpcio-tools, called through the gateway of a running `cogov up`, with
google.rpc error details decoded by grpcio-status."""

import unittest
import uuid

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cogov.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from cogov.issues.v1 import issues_service_pb2 as issues
from cogov.issues.v1 import issues_service_pb2_grpc, resources_pb2
from cogov.organizations.v1 import organizations_service_pb2 as orgs
from cogov.organizations.v1 import organizations_service_pb2_grpc

from common import FIRM_KEY, STAFF_TOKEN, UNIT_KEY, bearer, channel


def details(error):
    """The google.rpc.Status details of a failed call, unpacked by type."""
    status = rpc_status.from_call(error)
    found = {}
    for any_detail in status.details if status else []:
        for kind in (error_details_pb2.BadRequest, error_details_pb2.ErrorInfo,
                     error_details_pb2.PreconditionFailure):
            if any_detail.Is(kind.DESCRIPTOR):
                message = kind()
                any_detail.Unpack(message)
                found[kind.__name__] = message
    return found


class Tours(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.channel = channel()
        cls.gateway = gateway_pb2_grpc.GatewayServiceStub(cls.channel)
        cls.issues = issues_service_pb2_grpc.IssuesServiceStub(cls.channel)
        cls.orgs = organizations_service_pb2_grpc.OrganizationsServiceStub(cls.channel)
        cls.staff = bearer(STAFF_TOKEN)
        cls.firm = bearer(FIRM_KEY)
        cls.unit = bearer(UNIT_KEY)
        cls.firm_caller = cls.gateway.GetCaller(gateway_pb2.GetCallerRequest(), metadata=cls.firm)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def report(self, who, courtyard, title, request_id=None):
        return self.issues.ReportIssue(
            issues.ReportIssueRequest(
                issue=resources_pb2.Issue(
                    courtyard=courtyard, sub_item="subItems/lighting", title=title),
                request_id=request_id or str(uuid.uuid4())),
            metadata=who)

    def test_partner_tour(self):
        caller = self.firm_caller
        self.assertTrue(caller.partner.startswith("partners/"), caller)
        self.assertTrue(caller.principal.partner.organization.startswith("organizations/"))
        self.assertTrue(caller.courtyards, "the demo firm serves some courtyards")
        courtyard = caller.courtyards[0]

        request_id = str(uuid.uuid4())
        issue = self.report(self.firm, courtyard, "楼道灯不亮 Stairwell light out", request_id)
        self.assertEqual(issue.channel, resources_pb2.CHANNEL_PARTNER)
        self.assertEqual(issue.state, resources_pb2.ISSUE_STATE_REPORTED)
        again = self.report(self.firm, courtyard, "楼道灯不亮 Stairwell light out", request_id)
        self.assertEqual(again.name, issue.name, "a retry returns the same issue")

        got = self.issues.GetIssue(issues.GetIssueRequest(name=issue.name), metadata=self.firm)
        self.assertEqual(got.title, "楼道灯不亮 Stairwell light out")
        listed = self.issues.ListIssues(
            issues.ListIssuesRequest(filter=f'courtyard = "{courtyard}"', page_size=1000),
            metadata=self.firm)
        self.assertIn(issue.name, [i.name for i in listed.issues])

    def test_staff_tour_with_the_firm_doing_the_work(self):
        firm_org = self.firm_caller.principal.partner.organization
        courtyard = self.firm_caller.courtyards[0]
        issue = self.report(self.staff, courtyard, "路灯坏了 Lamp broken")
        self.assertEqual(issue.channel, resources_pb2.CHANNEL_HOTLINE)
        name = issue.name
        self.issues.AcknowledgeIssue(issues.AcknowledgeIssueRequest(name=name), metadata=self.staff)
        dispatched = self.issues.DispatchIssue(
            issues.DispatchIssueRequest(name=name, assignee=firm_org), metadata=self.staff)
        self.assertEqual(dispatched.assignee, firm_org)
        self.issues.StartIssue(issues.StartIssueRequest(name=name), metadata=self.firm)
        self.issues.ResolveIssue(
            issues.ResolveIssueRequest(name=name, note="Replaced the lamp"), metadata=self.firm)
        closed = self.issues.ConfirmIssue(
            issues.ConfirmIssueRequest(name=name, satisfaction=5), metadata=self.staff)
        self.assertEqual(closed.state, resources_pb2.ISSUE_STATE_CLOSED)

        timeline = self.issues.ListIssueUpdates(
            issues.ListIssueUpdatesRequest(parent=name), metadata=self.staff).updates
        states = [u.to_state for u in timeline if u.kind == resources_pb2.ISSUE_UPDATE_KIND_TRANSITION]
        self.assertEqual(states[-1], resources_pb2.ISSUE_STATE_CLOSED)
        self.assertIn(resources_pb2.ISSUE_STATE_RESOLVED, states)

        # An illegal step: FAILED_PRECONDITION with a PreconditionFailure.
        with self.assertRaises(grpc.RpcError) as refused:
            self.issues.ResolveIssue(
                issues.ResolveIssueRequest(name=name, note="again"), metadata=self.staff)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("PreconditionFailure", details(refused.exception))

    def test_bad_input_names_the_field(self):
        with self.assertRaises(grpc.RpcError) as refused:
            self.issues.ReportIssue(
                issues.ReportIssueRequest(
                    issue=resources_pb2.Issue(sub_item="subItems/lighting"),
                    request_id="not a uuid"),
                metadata=self.staff)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        bad = details(refused.exception)["BadRequest"]
        fields = {v.field for v in bad.field_violations}
        self.assertIn("issue.courtyard", fields)
        self.assertIn("request_id", fields)

    def test_reach_is_enforced(self):
        everything = self.orgs.ListCourtyards(
            orgs.ListCourtyardsRequest(page_size=1000), metadata=self.staff).courtyards
        mine = set(self.firm_caller.courtyards)
        elsewhere = [c.name for c in everything if c.name not in mine]
        self.assertTrue(elsewhere, "the demo street has courtyards the firm does not serve")

        with self.assertRaises(grpc.RpcError) as refused:
            self.report(self.firm, elsewhere[0], "not my courtyard")
        self.assertEqual(refused.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(details(refused.exception)["ErrorInfo"].reason, "OUT_OF_REACH")

        # Staff-only methods are refused at the door.
        with self.assertRaises(grpc.RpcError) as refused:
            self.gateway.ListPartners(gateway_pb2.ListPartnersRequest(), metadata=self.firm)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

        # Another partner does not see the firm's issue.
        issue = self.report(self.firm, self.firm_caller.courtyards[0], "only ours")
        unit_caller = self.gateway.GetCaller(gateway_pb2.GetCallerRequest(), metadata=self.unit)
        if self.firm_caller.courtyards[0] not in unit_caller.courtyards:
            with self.assertRaises(grpc.RpcError) as hidden:
                self.issues.GetIssue(issues.GetIssueRequest(name=issue.name), metadata=self.unit)
            self.assertIn(hidden.exception.code(),
                          (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED))

    def test_no_credentials_is_unauthenticated(self):
        with self.assertRaises(grpc.RpcError) as refused:
            self.gateway.GetCaller(gateway_pb2.GetCallerRequest())
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        self.assertEqual(details(refused.exception)["ErrorInfo"].reason, "CREDENTIALS_MISSING")


if __name__ == "__main__":
    unittest.main()
