"""Open311 GeoReport v2 with a client we did not write: `georeport` from
PyPI lists the services, reads a service definition and reads requests
back, in JSON and in XML.

georeport cannot post (no maintained Open311 client on PyPI for Python 3
can), so the report itself is a plain form POST with `requests`, exactly
as GeoReport v2 specifies it."""

import unittest

import requests
from georeport import GeoReport

from cogov.gateway.v1 import gateway_pb2, gateway_pb2_grpc

from common import FIRM_KEY, GATEWAY, bearer, channel

ROOT = f"http://{GATEWAY}/open311/v2"


class Open311(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with channel() as c:
            caller = gateway_pb2_grpc.GatewayServiceStub(c).GetCaller(
                gateway_pb2.GetCallerRequest(), metadata=bearer(FIRM_KEY))
        cls.courtyard = caller.courtyards[0].split("/")[1]
        cls.json = GeoReport(ROOT)
        cls.xml = GeoReport(ROOT, output_format="xml")

    def test_services_and_their_definitions(self):
        services = self.json.get_service_list()
        codes = {s["service_code"]: s for s in services}
        self.assertIn("clutter_piling", codes)
        self.assertTrue(codes["clutter_piling"]["group"])
        self.assertIs(codes["clutter_piling"]["metadata"], True)

        in_xml = self.xml.get_service_list()
        self.assertEqual({s["service_code"] for s in in_xml}, set(codes))

        definition = self.json.get_service_definition("clutter_piling")
        attributes = {a["code"]: a for a in definition["attributes"]}
        courtyards = {v["key"] for v in attributes["courtyard"]["values"]}
        self.assertIn(self.courtyard, courtyards)
        in_xml = self.xml.get_service_definition("clutter_piling")
        self.assertEqual(in_xml["service_code"], "clutter_piling")

    def test_post_and_read_back(self):
        form = {
            "api_key": FIRM_KEY,
            "service_code": "clutter_piling",
            "address_id": self.courtyard,
            "description": "Bikes block the stairwell of building 3",
            "email": "resident@example.com",
        }
        posted = requests.post(f"{ROOT}/requests.json", data=form, timeout=10)
        self.assertEqual(posted.status_code, 200, posted.text)
        request_id = posted.json()[0]["service_request_id"]
        again = requests.post(f"{ROOT}/requests.json", data=form, timeout=10)
        self.assertEqual(again.json()[0]["service_request_id"], request_id,
                         "a repeated post is the same request")

        request = self.json.get_service_request(request_id)
        self.assertEqual(request["service_request_id"], request_id)
        self.assertEqual(request["status"], "open")
        self.assertEqual(request["service_code"], "clutter_piling")
        self.assertEqual(request["description"], form["description"])
        self.assertEqual(request["address_id"], self.courtyard)
        self.assertTrue(request["expected_datetime"])
        self.assertNotIn("resident@example.com", str(request))

        in_xml = self.xml.get_service_request(request_id)
        self.assertEqual(in_xml["service_request_id"], request_id)
        self.assertEqual(in_xml["status"], "open")

        listed = self.json.get_service_requests(service_code="clutter_piling", status="open")
        self.assertIn(request_id, [r["service_request_id"] for r in listed])

    def test_errors_use_the_open311_format(self):
        refused = requests.post(f"{ROOT}/requests.json",
                                data={"service_code": "clutter_piling"}, timeout=10)
        self.assertEqual(refused.status_code, 401)
        self.assertEqual(refused.json()[0]["code"], 401)
        missing = requests.get(f"{ROOT}/services/no_such_service.json", timeout=10)
        self.assertEqual(missing.status_code, 404)
        self.assertEqual(missing.json()[0]["code"], 404)


if __name__ == "__main__":
    unittest.main()
