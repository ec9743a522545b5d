"""What every suite needs: where the gateway is and who may call it.

run.sh starts `cogov up` and exports its address and the credentials its
banner prints."""

import os

import grpc

GATEWAY = os.environ["COGOV_GATEWAY"]
STAFF_TOKEN = os.environ["COGOV_TOKEN"]
FIRM_KEY = os.environ["COGOV_FIRM_KEY"]
UNIT_KEY = os.environ["COGOV_UNIT_KEY"]


def bearer(credential):
    """Call metadata that presents `credential` (a key or a staff token)."""
    return (("authorization", f"Bearer {credential}"),)


def channel():
    """A plaintext HTTP/2 channel to the gateway."""
    return grpc.insecure_channel(GATEWAY)
