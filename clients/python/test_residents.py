"""A resident's tour from Python: sign in by phone with the code `cogov
up` writes to its log, report a problem, vote in the open poll, hear of
the report in the inbox, renew the session (and see a copied refresh
token end it), and register a number nobody has."""

import json
import os
import re
import time
import unittest
import uuid

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from cogov.deliberation.v1 import deliberation_service_pb2 as delib
from cogov.deliberation.v1 import deliberation_service_pb2_grpc, resources_pb2 as delib_resources
from cogov.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from cogov.gateway.v1 import residents_pb2 as residents
from cogov.gateway.v1 import residents_pb2_grpc
from cogov.issues.v1 import issues_service_pb2 as issues
from cogov.issues.v1 import issues_service_pb2_grpc, resources_pb2
from cogov.volunteers.v1 import resources_pb2 as vol_resources
from cogov.volunteers.v1 import volunteers_service_pb2 as vols
from cogov.volunteers.v1 import volunteers_service_pb2_grpc

from common import STAFF_TOKEN, bearer, channel

UP_LOG = os.environ["COGOV_UP_LOG"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def log_lines():
    with open(UP_LOG, encoding="utf-8", errors="replace") as f:
        return [ANSI.sub("", line) for line in f]


def demo_residents():
    """(label, name, phone) of the residents the banner names."""
    lines = log_lines()
    start = next(i for i, l in enumerate(lines) if l.startswith("Residents sign in by phone"))
    out = []
    for line in lines[start + 2:]:
        m = re.match(r"\s+(.+?)\s{2,}(\S+)\s+phone (\d+)", line)
        if not m:
            break
        out.append(m.groups())
    return out


def reason(error):
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info.reason
    return None


class ResidentTour(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.channel = channel()
        cls.residents = residents_pb2_grpc.ResidentsServiceStub(cls.channel)
        cls.gateway = gateway_pb2_grpc.GatewayServiceStub(cls.channel)
        cls.issues = issues_service_pb2_grpc.IssuesServiceStub(cls.channel)
        cls.deliberation = deliberation_service_pb2_grpc.DeliberationServiceStub(cls.channel)
        cls.volunteers = volunteers_service_pb2_grpc.VolunteersServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def sign_in(self, phone):
        """SendSignInCode, the code from cogov up's log, SignIn."""
        seen = sum(1 for l in log_lines() if "sign-in code" in l)
        self.residents.SendSignInCode(residents.SendSignInCodeRequest(phone=phone))
        for _ in range(100):
            codes = [re.search(r"code=(\d{6})", l) for l in log_lines() if "sign-in code" in l]
            if len(codes) > seen:
                break
            time.sleep(0.05)
        else:
            self.fail("no sign-in code in the log")
        return self.residents.SignIn(residents.SignInRequest(
            phone=phone, code=codes[-1].group(1), device="Python tour"))

    def test_a_residents_tour(self):
        found = demo_residents()
        self.assertEqual([label for label, _, _ in found],
                         ["building head, on the council", "volunteer", "resident"])
        _, _, phone = found[0]
        signed = self.sign_in(phone)
        self.assertEqual(signed.WhichOneof("outcome"), "tokens")
        tokens = signed.tokens
        me = bearer(tokens.access_token)
        caller = self.gateway.GetCaller(gateway_pb2.GetCallerRequest(), metadata=me)
        self.assertEqual(caller.principal.WhichOneof("kind"), "resident")
        person = caller.principal.resident.person

        # A report in their own courtyard, as themselves.
        issue = self.issues.ReportIssue(issues.ReportIssueRequest(
            issue=resources_pb2.Issue(courtyard=caller.courtyards[0],
                                      sub_item="subItems/lighting", title="楼道灯不亮"),
            request_id=str(uuid.uuid4())), metadata=me)
        self.assertEqual(issue.reporter, person)
        self.assertEqual(issue.channel, resources_pb2.CHANNEL_APP)

        # The open poll of their council: a ranked ballot of their own.
        polls = self.deliberation.ListPolls(
            delib.ListPollsRequest(filter="state = POLL_STATE_OPEN"), metadata=me).polls
        self.assertTrue(polls, "the demo has an open poll in the resident's council")
        poll = polls[0]
        ballot = self.deliberation.CastVote(delib.CastVoteRequest(
            poll=poll.name, voter=person,
            choices=[delib_resources.Choice(option=o.key, value=rank + 1)
                     for rank, o in enumerate(poll.options)],
            request_id=str(uuid.uuid4())), metadata=me)
        self.assertEqual(ballot.channel, delib_resources.BALLOT_CHANNEL_ONLINE)
        # Not for a neighbour.
        with self.assertRaises(grpc.RpcError) as other:
            self.deliberation.CastVote(delib.CastVoteRequest(
                poll=poll.name, voter="persons/" + str(uuid.uuid4()),
                choices=[delib_resources.Choice(option=poll.options[0].key, value=1)]),
                metadata=me)
        self.assertEqual(other.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

        # Staff acknowledge the report: the resident hears of it.
        self.issues.AcknowledgeIssue(issues.AcknowledgeIssueRequest(name=issue.name),
                                     metadata=bearer(STAFF_TOKEN))
        for _ in range(100):
            inbox = self.residents.ListNotices(
                residents.ListNoticesRequest(parent="persons/me"), metadata=me)
            if any(n.subject == issue.name for n in inbox.notices):
                break
            time.sleep(0.05)
        else:
            self.fail("no notice of the acknowledged report")
        self.assertGreaterEqual(inbox.unread_count, 1)

        # Everything held about them, as one JSON document.
        export = self.residents.ExportMyData(
            residents.ExportMyDataRequest(parent="persons/me"), metadata=me)
        doc = json.loads(export.json)
        self.assertIn(issue.name, [r["issue"]["name"] for r in doc["issues"]["reports"]])

        # Renewal spends the refresh token; a copy of it ends the session.
        renewed = self.residents.RefreshResidentSession(
            residents.RefreshResidentSessionRequest(refresh_token=tokens.refresh_token))
        self.gateway.GetCaller(gateway_pb2.GetCallerRequest(),
                               metadata=bearer(renewed.access_token))
        with self.assertRaises(grpc.RpcError) as reused:
            self.residents.RefreshResidentSession(
                residents.RefreshResidentSessionRequest(refresh_token=tokens.refresh_token))
        self.assertEqual(reason(reused.exception), "REFRESH_TOKEN_REUSED")
        with self.assertRaises(grpc.RpcError) as ended:
            self.gateway.GetCaller(gateway_pb2.GetCallerRequest(),
                                   metadata=bearer(renewed.access_token))
        self.assertEqual(ended.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_an_unknown_number_registers(self):
        phone = "139" + str(uuid.uuid4().int % 10**8).zfill(8)
        first = self.sign_in(phone)
        self.assertEqual(first.WhichOneof("outcome"), "registration")
        notice = self.residents.GetPrivacyNotice(residents.GetPrivacyNoticeRequest())
        self.assertEqual(first.registration.privacy_notice.version, notice.version)
        found = demo_residents()
        caller = self.gateway.GetCaller(
            gateway_pb2.GetCallerRequest(),
            metadata=bearer(self.sign_in(found[2][2]).tokens.access_token))
        registered = self.residents.RegisterResident(residents.RegisterResidentRequest(
            ticket=first.registration.ticket, display_name="新居民",
            courtyard=caller.courtyards[0], privacy_notice_version=notice.version,
            consent=True))
        me = bearer(registered.tokens.access_token)
        person = self.gateway.GetCaller(gateway_pb2.GetCallerRequest(),
                                        metadata=me).principal.resident.person
        with self.assertRaises(grpc.RpcError) as unverified:
            self.volunteers.CreateVolunteer(vols.CreateVolunteerRequest(
                volunteer=vol_resources.Volunteer(person=person),
                request_id=str(uuid.uuid4())), metadata=me)
        self.assertEqual(unverified.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertEqual(reason(unverified.exception), "RESIDENT_UNVERIFIED")


if __name__ == "__main__":
    unittest.main()
