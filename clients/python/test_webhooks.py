"""Webhooks received by a partner's system written in Python: an HTTP
server of the test's own that verifies every delivery with the PyPI
package `standardwebhooks` (the Standard Webhooks specification's own
library, not cogov's code), while the firm registers its endpoint, reports
an issue in its reach and asks for a test event."""

import json
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cogov.gateway.v1 import gateway_pb2, gateway_pb2_grpc, webhooks_pb2
from cogov.issues.v1 import issues_service_pb2 as issues
from cogov.issues.v1 import issues_service_pb2_grpc, resources_pb2

from common import FIRM_KEY, bearer, channel


class Receiver(ThreadingHTTPServer):
    """Keeps every POST (headers and body) for the test to verify."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.received = []
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"

    def snapshot(self):
        with self.lock:
            return list(self.received)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        with self.server.lock:
            self.server.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class Webhooks(unittest.TestCase):
    def setUp(self):
        self.channel = channel()
        self.gateway = gateway_pb2_grpc.GatewayServiceStub(self.channel)
        self.issues = issues_service_pb2_grpc.IssuesServiceStub(self.channel)
        self.firm = bearer(FIRM_KEY)
        self.receiver = Receiver()
        threading.Thread(target=self.receiver.serve_forever, daemon=True).start()

    def tearDown(self):
        self.receiver.shutdown()
        self.receiver.server_close()
        self.channel.close()

    def wait_for(self, verifier, predicate):
        """The first delivery whose verified event satisfies `predicate`."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for headers, body in self.receiver.snapshot():
                event = verifier.verify(body, headers)
                if predicate(event):
                    return headers, body, event
            time.sleep(0.1)
        self.fail("no such delivery arrived")

    def test_a_firm_receives_and_verifies_its_events(self):
        caller = self.gateway.GetCaller(gateway_pb2.GetCallerRequest(), metadata=self.firm)
        created = self.gateway.CreateWebhookEndpoint(
            webhooks_pb2.CreateWebhookEndpointRequest(
                parent=caller.partner,
                webhook_endpoint=webhooks_pb2.WebhookEndpoint(
                    url=self.receiver.url,
                    event_types=["cogov.issues.v1.IssueReported",
                                 "cogov.gateway.v1.WebhookTested"],
                    description="work orders"),
                request_id=str(uuid.uuid4())),
            metadata=self.firm)
        endpoint = created.webhook_endpoint.name
        self.assertTrue(created.secret.startswith("whsec_"))
        verifier = Webhook(created.secret)
        try:
            issue = self.issues.ReportIssue(
                issues.ReportIssueRequest(
                    issue=resources_pb2.Issue(
                        courtyard=caller.courtyards[0], sub_item="subItems/lighting",
                        title="楼道灯不亮 webhook"),
                    request_id=str(uuid.uuid4())),
                metadata=self.firm)
            headers, body, event = self.wait_for(
                verifier, lambda e: e.get("subject") == issue.name)
            self.assertEqual(event["type"], "cogov.issues.v1.IssueReported")
            self.assertEqual(event["courtyard"], caller.courtyards[0])
            self.assertTrue(event["payload"]["@type"].endswith("/cogov.issues.v1.IssueReported"))
            self.assertTrue(headers["webhook-id"].startswith("msg_"))

            # The library refuses what was not signed with the secret.
            with self.assertRaises(WebhookVerificationError):
                verifier.verify(body + b" ", headers)
            with self.assertRaises(WebhookVerificationError):
                Webhook("whsec_" + "QUJD" * 8).verify(body, headers)

            self.gateway.SendTestWebhookEvent(
                webhooks_pb2.SendTestWebhookEventRequest(
                    name=endpoint, request_id=str(uuid.uuid4())),
                metadata=self.firm)
            _, _, tested = self.wait_for(
                verifier, lambda e: e.get("type") == "cogov.gateway.v1.WebhookTested")
            self.assertEqual(tested["payload"]["webhookEndpoint"], endpoint)

            # Every delivery verified, and the partner's list agrees.
            for headers, body in self.receiver.snapshot():
                verifier.verify(body, headers)
                self.assertIn(json.loads(body)["type"],
                              ["cogov.issues.v1.IssueReported", "cogov.gateway.v1.WebhookTested"])
            listed = self.gateway.ListWebhookDeliveries(
                webhooks_pb2.ListWebhookDeliveriesRequest(parent=endpoint), metadata=self.firm)
            ids = {h["webhook-id"] for h, _ in self.receiver.snapshot()}
            self.assertTrue(ids <= {d.webhook_id for d in listed.webhook_deliveries})
        finally:
            self.gateway.DeleteWebhookEndpoint(
                webhooks_pb2.DeleteWebhookEndpointRequest(name=endpoint), metadata=self.firm)
