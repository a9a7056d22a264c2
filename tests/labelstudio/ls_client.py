"""Drive a real Label Studio server with label-studio-sdk (runs in .venv-labelstudio).

Kept out of the ftdata venv because label-studio-sdk pins numpy and pulls in
opencv; the test (tests/labelstudio/test_roundtrip.py) runs this script with
the Label Studio venv's python and reads the export it writes.

    python ls_client.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD ADMIN_TOKEN PLAN.json EXPORT.json

PLAN.json: {"label_config": "<View>...", "tasks": [...],
            "annotators": {"ann_a@example.com": {"<record_id>": "a>b>c" | null (cancel)}, ...}}
"""

from __future__ import annotations

import json
import sys

import requests
from label_studio_sdk import LabelStudio

PASSWORD = "annotator-pass-123"


def session_login(base: str, email: str, password: str) -> requests.Session:
    """Log in like a browser: GET the login page for the CSRF cookie, then POST the form."""
    session = requests.Session()
    session.get(f"{base}/user/login/", timeout=30).raise_for_status()
    resp = session.post(
        f"{base}/user/login/",
        data={
            "email": email,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/user/login/"},
        allow_redirects=False,
        timeout=30,
    )
    if resp.status_code != 302:
        raise SystemExit(f"login as {email} failed: HTTP {resp.status_code}")
    return session


def enable_legacy_tokens(base: str, session: requests.Session) -> None:
    """LS 1.23 disables `Authorization: Token ...` by default; the org admin turns it back on."""
    resp = session.post(
        f"{base}/api/jwt/settings",
        json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True},
        headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": base},
        timeout=30,
    )
    resp.raise_for_status()


def sign_up_annotator(base: str, admin: LabelStudio, admin_token: str, email: str) -> str:
    """Create an annotator through the organisation's invite link; return their API token."""
    invite = requests.get(
        f"{base}/api/invite", headers={"Authorization": f"Token {admin_token}"}, timeout=30
    )
    invite.raise_for_status()
    token = invite.json()["token"]
    session = requests.Session()
    session.get(f"{base}/user/signup/?token={token}", timeout=30).raise_for_status()
    resp = session.post(
        f"{base}/user/signup/?token={token}",
        data={
            "email": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/user/signup/"},
        allow_redirects=False,
        timeout=30,
    )
    if resp.status_code != 302:
        raise SystemExit(f"sign-up of {email} failed: HTTP {resp.status_code}")
    resp = session.get(f"{base}/api/current-user/token", timeout=30)
    resp.raise_for_status()
    return resp.json()["token"]


def main() -> None:
    base, admin_email, admin_password, admin_token, plan_path, export_path = sys.argv[1:7]
    plan = json.loads(open(plan_path, encoding="utf-8").read())
    enable_legacy_tokens(base, session_login(base, admin_email, admin_password))
    admin = LabelStudio(base_url=base, api_key=admin_token)

    project = admin.projects.create(
        title="ftdata intent round trip", label_config=plan["label_config"]
    )
    admin.projects.import_tasks(id=project.id, request=plan["tasks"])
    tasks = list(admin.tasks.list(project=project.id))
    by_record = {t.data["record_id"]: t.id for t in tasks}
    if len(by_record) != len(plan["tasks"]):
        raise SystemExit(f"imported {len(by_record)} tasks, expected {len(plan['tasks'])}")

    users = {}
    for email, labels in plan["annotators"].items():
        token = sign_up_annotator(base, admin, admin_token, email)
        client = LabelStudio(base_url=base, api_key=token)
        me = client.users.whoami()
        users[email] = me.id
        for record_id, label in labels.items():
            if label is None:
                client.annotations.create(id=by_record[record_id], result=[], was_cancelled=True)
                continue
            client.annotations.create(
                id=by_record[record_id],
                result=[
                    {
                        "from_name": "intent",
                        "to_name": "text",
                        "type": "taxonomy",
                        "value": {"taxonomy": [label.split(">")]},
                    }
                ],
            )

    resp = requests.get(
        f"{base}/api/projects/{project.id}/export",
        params={"exportType": "JSON", "download_all_tasks": "true"},
        headers={"Authorization": f"Token {admin_token}"},
        timeout=120,
    )
    resp.raise_for_status()
    with open(export_path, "w", encoding="utf-8") as fh:
        json.dump(resp.json(), fh, ensure_ascii=False, indent=1)
    print(json.dumps({"project": project.id, "tasks": len(tasks), "users": users}))


if __name__ == "__main__":
    main()
