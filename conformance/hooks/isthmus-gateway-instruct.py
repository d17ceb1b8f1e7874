#!/usr/bin/env python3
"""The conformance suite's instruct hook for an Isthmus gateway (--instruct-cmd).

The suite runs it with the variables of conformance/README.md ("The
instruct hook"); it makes the instruction settleable on the gateway's ledger
and has the participant submit it, through the gateway's participant API:

  1. as the operator, opens ISM_OWNER/ISM_ACCOUNT and
     ISM_BENEFICIARY_OWNER/ISM_BENEFICIARY_ACCOUNT (an account already open
     is fine) and issues ISM_QUANTITY units of ISM_ASSET into the first;
  2. as the participant, POSTs the body in ISM_INSTRUCTION_FILE to
     /v1/instructions as ISM/1 JSON.

It exits 0 once the gateway answered 202 (or 200 for a repeat), and 1 with
the API's problem document on standard error otherwise. An implementer of
another gateway writes the same steps against their own interfaces.

    isthmus-gateway-instruct.py --api 127.0.0.1:8080 \\
        --operator-token OPERATOR --participant-token PARTICIPANT
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request


def call(api, path, token, content_type, data):
    request = urllib.request.Request(
        f"http://{api}{path}",
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    # A gateway the suite has just restarted may serve QUIC a moment before
    # its API listens: connection failures are retried for a while.
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")
        except (urllib.error.URLError, ConnectionError) as error:
            if time.monotonic() > deadline:
                sys.exit(f"the participant API at {api} does not answer: {error}")
            time.sleep(0.1)


def operator(args, action, body, tolerated=()):
    status, text = call(
        args.api, f"/v1/operator/{action}", args.operator_token,
        "application/json", json.dumps(body).encode())
    if status in (200, 201):
        return
    try:
        code = json.loads(text).get("reason_code")
    except ValueError:
        code = None
    if code in tolerated:
        return
    sys.exit(f"the operator's {action} {body} was refused ({status}): {text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True, help="HOST:PORT of the participant API")
    parser.add_argument("--operator-token", required=True)
    parser.add_argument("--participant-token", required=True)
    args = parser.parse_args()
    env = os.environ
    instruction_id = env["ISM_INSTRUCTION_ID"]
    account = f"{env['ISM_OWNER']}/{env['ISM_ACCOUNT']}"
    beneficiary = f"{env['ISM_BENEFICIARY_OWNER']}/{env['ISM_BENEFICIARY_ACCOUNT']}"
    for n, name in enumerate([account, beneficiary]):
        operator(args, "accounts", {"key": f"conf-open-{instruction_id}-{n}", "account": name},
                 tolerated=("ACCOUNT_EXISTS",))
    operator(args, "issue", {"key": f"conf-issue-{instruction_id}", "account": account,
                             "asset": env["ISM_ASSET"], "amount": env["ISM_QUANTITY"]})
    with open(env["ISM_INSTRUCTION_FILE"], "rb") as file:
        instruction = file.read()
    status, text = call(args.api, "/v1/instructions", args.participant_token,
                        "application/json", instruction)
    if status not in (200, 202):
        sys.exit(f"the instruction {instruction_id} was refused ({status}): {text}")


if __name__ == "__main__":
    main()
