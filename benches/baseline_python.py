#!/usr/bin/env python3
"""The baseline of the fleet benchmark: the plain, sequential script a user would write by hand
with the official python client (PyPI ``ovh==1.2.0``) to read the same fleet reconcile reads.

One call at a time, the N+1 reads the API forces: for each project its database catalogue
(``availability``), for each engine the list of services then each service, for each service
the list of users then each user; for each Web Hosting the service, the attached domains (list,
then each), the SSL certificate (404 when there is none, else ``ssl/domains`` too) and the
hosting databases (list, then each). Only ``ovh.client.ENDPOINTS`` is patched to point at the
sandbox; everything else (signing, the ``/auth/time`` call, JSON decoding) is the client's own.

Usage:
  baseline_python.py ENDPOINT --project P [--project P2 ...] --engine E [--engine E2 ...]
                              [--hosting H ...]
e.g. baseline_python.py http://127.0.0.1:8080/1.0 --project p1 --engine mongodb \
         --hosting h1.cluster021.hosting.ovh.net

Prints one JSON line on stdout: {"gets": N, "seconds": S, "services": ..., "users": ...,
"attached_domains": ...}. Run by examples/bench_fleet/ (row 5), which counts the calls on the
sandbox's side as well.
"""

import argparse
import json
import sys
import time

try:
    import ovh
    import ovh.client
    import ovh.exceptions
except ImportError:
    sys.exit("error: python package `ovh` is missing\nhint: pip install ovh==1.2.0")

APPLICATION_KEY = "sandbox-application-key"
APPLICATION_SECRET = "sandbox-application-secret"
CONSUMER_KEY = "sandbox-consumer-key"
REGION = "ovh-eu"  # the ENDPOINTS entry we repoint; python-ovh accepts only named endpoints


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("endpoint")
    parser.add_argument("--project", action="append", default=[])
    parser.add_argument("--engine", action="append", default=[])
    parser.add_argument("--hosting", action="append", default=[])
    args = parser.parse_args()

    ovh.client.ENDPOINTS[REGION] = args.endpoint
    client = ovh.Client(
        endpoint=REGION,
        application_key=APPLICATION_KEY,
        application_secret=APPLICATION_SECRET,
        consumer_key=CONSUMER_KEY,
    )

    gets = 0

    def get(path):
        nonlocal gets
        gets += 1
        return client.get(path)

    started = time.monotonic()
    services, users, attached_domains = [], [], []
    for project in args.project:
        catalogue = get("/cloud/project/%s/database/availability" % project)
        for engine in args.engine:
            base = "/cloud/project/%s/database/%s" % (project, engine)
            for service_id in get(base):
                services.append(get("%s/%s" % (base, service_id)))
                for user_id in get("%s/%s/user" % (base, service_id)):
                    users.append(get("%s/%s/user/%s" % (base, service_id, user_id)))
    for hosting in args.hosting:
        base = "/hosting/web/%s" % hosting
        service = get(base)
        for domain in get(base + "/attachedDomain"):
            attached_domains.append(get("%s/attachedDomain/%s" % (base, domain)))
        try:
            ssl = get(base + "/ssl")
            ssl["domains"] = get(base + "/ssl/domains")
        except ovh.exceptions.ResourceNotFoundError:
            ssl = None
        databases = [get("%s/database/%s" % (base, name)) for name in get(base + "/database")]
    elapsed = time.monotonic() - started

    print(
        json.dumps(
            {
                "gets": gets,
                "seconds": round(elapsed, 3),
                "services": len(services),
                "users": len(users),
                "attached_domains": len(attached_domains),
            }
        )
    )


if __name__ == "__main__":
    main()
