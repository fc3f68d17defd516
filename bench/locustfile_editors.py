"""Locust users for bench/editors_load.py: editors in the Wagtail admin, each with their own account.

Every request is one the admin's own pages make in a browser, with the data the browser would send: the
edit form is read from the page editor's HTML and sent back as it is (StreamField blocks serialised from
their form state as Wagtail's JavaScript does, inline formsets, the fields Wagtail moves into the form),
with a changed title. The roles (bench/editors_load.py writes the accounts to XIAOGE_EDITORS_PLAN):

- publisher (a superuser: in this project only they may publish from the editor, cms/editorial): opens the
  stories listing, then one of their stories in the editor, types (autosave, editing-session pings),
  sometimes saves a draft, and mostly publishes;
- editor (编辑): the same, but saves a draft and submits it for review (the workflow 审核后发布);
- reviewer (审核员): opens the dashboard, takes a story waiting for them, reads it in the editor and
  approves it, which publishes it.

A response counts as a success only if it is what the admin answers on success: the redirect to the
explorer (publish, submit, approve) or back to the editor (save draft), a success message naming the
new title where Wagtail writes one, and no error or warning message (except the editor's notice that the
static site is still building the latest publish); a form shown again with errors is a failure. A
request's time runs from the click to the next page received, the redirect included. Results in
XIAOGE_EDITORS_OUT: requests.jsonl (every request, exact time), failures.jsonl and published.jsonl (every
successful publish and approval: page, title, and when it was clicked and answered, epoch seconds).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import gevent
from bs4 import BeautifulSoup
from locust import HttpUser, between, events, task
from locust.exception import StopUser

PLAN = json.loads(Path(os.environ["XIAOGE_EDITORS_PLAN"]).read_text())
OUT = Path(os.environ["XIAOGE_EDITORS_OUT"])
INDEX_ID = PLAN["index_id"]
EXPLORER = f"/admin/pages/{INDEX_ID}/"
PING_EVERY = 10.0  # seconds: WAGTAIL_EDITING_SESSION_PING_INTERVAL's default

ACCOUNTS = {role: [a for a in PLAN["accounts"] if a["role"] == role] for role in ("publisher", "editor", "reviewer")}
EDITORS = [a["username"] for a in ACCOUNTS["editor"]]
REVIEWERS = [a["username"] for a in ACCOUNTS["reviewer"]]
# Shared by the users (one locust process): stories submitted and not approved yet, page id -> submission.
IN_REVIEW: dict[int, dict] = {}

_journal = {name: (OUT / f"{name}.jsonl").open("a", buffering=1) for name in ("requests", "failures", "published")}


def journal(stream: str, **record):
    _journal[stream].write(json.dumps({"t": time.time(), **record}, ensure_ascii=False) + "\n")


@events.request.add_listener
def on_request(request_type, name, response_time, response_length, exception=None, **kwargs):
    journal("requests", name=name, ms=response_time, failed=exception is not None)
    if exception is not None:
        journal("failures", name=name, error=str(exception))


@events.quitting.add_listener
def on_quitting(environment, **kwargs):
    for f in _journal.values():
        f.flush()


class Failed(Exception):
    pass


# ------------------------------------------------------------------------------ reading the admin's HTML
def problems(shown: list[tuple[str, str]]) -> list[str]:
    """Errors and warnings, except the static site's "the latest publish is building" (cms/publishing)."""
    return [m for level, m in shown if "error" in level or ("warning" in level and not m.startswith("静态网站："))]


def messages(html: str) -> list[tuple[str, str]]:
    """The admin's messages (level, text) shown on a page: only that part of the page is parsed, so that the
    one locust process spends little CPU time (a busy client would delay the other users' responses)."""
    start = html.find('<div class="messages"')
    end = html.find("<template", start)
    if start < 0 or end < 0:
        return []
    box = BeautifulSoup(html[start:end], "html.parser")
    container = box.find("ul", attrs={"data-w-messages-target": "container"})
    if container is None:
        return []
    return [(" ".join(li.get("class", [])), li.get_text(" ", strip=True)) for li in container.find_all("li")]


def unpack(packed, refs: dict | None = None):
    """Telepath's packed JSON (Wagtail's block definitions) back to plain objects."""
    refs = {} if refs is None else refs
    if isinstance(packed, list):
        return [unpack(x, refs) for x in packed]
    if not isinstance(packed, dict):
        return packed
    if "_ref" in packed:
        return refs[packed["_ref"]]
    if "_type" in packed:
        value = {"_type": packed["_type"], "_args": unpack(packed.get("_args", []), refs)}
    elif "_dict" in packed:
        value = {k: unpack(v, refs) for k, v in packed["_dict"].items()}
    elif "_list" in packed:
        value = unpack(packed["_list"], refs)
    elif "_val" in packed:
        value = packed["_val"]
    else:
        value = {k: unpack(v, refs) for k, v in packed.items() if k != "_id"}
    if "_id" in packed:
        refs[packed["_id"]] = value
    return value


def block_fields(definition: dict, state, prefix: str, out: list):
    """The form fields Wagtail's block JavaScript submits for a block's form state."""
    kind = definition["_type"].rsplit(".", 1)[-1]
    args = definition["_args"]
    if kind == "StreamBlock":
        children = {child["_args"][0]: child for _group, members in args[1] for child in members}
        out.append((f"{prefix}-count", str(len(state))))
        for i, item in enumerate(state):
            out += [
                (f"{prefix}-{i}-type", item["type"]),
                (f"{prefix}-{i}-deleted", ""),
                (f"{prefix}-{i}-order", str(i)),
                (f"{prefix}-{i}-id", item.get("id") or ""),
            ]
            block_fields(children[item["type"]], item["value"], f"{prefix}-{i}-value", out)
    elif kind == "ListBlock":
        out.append((f"{prefix}-count", str(len(state))))
        for i, item in enumerate(state):
            value, item_id = (
                (item["value"], item.get("id")) if isinstance(item, dict) and "value" in item else (item, None)
            )
            out += [(f"{prefix}-{i}-deleted", ""), (f"{prefix}-{i}-order", str(i)), (f"{prefix}-{i}-id", item_id or "")]
            block_fields(args[1], value, f"{prefix}-{i}-value", out)
    elif isinstance(args[1], list) and isinstance(state, dict):  # StructBlock and its kind (ImageBlock, …)
        for child in args[1]:
            name = child["_args"][0]
            block_fields(child, state.get(name), f"{prefix}-{name}", out)
    elif kind == "StaticBlock":
        pass
    else:  # a FieldBlock: its widget's value
        widget = args[1]["_type"] if isinstance(args[1], dict) else ""
        if isinstance(state, bool):
            if state:
                out.append((prefix, "on"))
        elif isinstance(state, dict):  # choosers: the chosen object's id
            out.append((prefix, "" if state.get("id") is None else str(state["id"])))
        elif isinstance(state, list):  # selects: the selected values
            values = state if "Multiple" in widget else state[:1]
            out += [(prefix, str(v)) for v in values]
        else:
            out.append((prefix, "" if state is None else str(state)))


def teleported_into_form(template) -> bool:
    return "w-teleport" in (template.get("data-controller") or "") and "data-edit-form" in (
        template.get("data-w-teleport-target-value") or ""
    )


def form_data(soup: BeautifulSoup, form) -> list[tuple[str, str]]:
    """What a browser's FormData holds for the form (before JavaScript adds the StreamField's fields)."""
    form_id = form.get("id")
    data = []
    for el in soup.find_all(["input", "select", "textarea"]):
        name = el.get("name")
        if not name or el.has_attr("disabled"):
            continue
        owned = el.get("form") == form_id if el.has_attr("form") else any(p is form for p in el.parents)
        template = el.find_parent("template")
        if template is not None and not teleported_into_form(template):
            continue
        if not owned and not (template is not None and teleported_into_form(template)):
            continue
        if el.name == "input":
            kind = (el.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                continue
            if kind in ("checkbox", "radio"):
                if el.has_attr("checked"):
                    data.append((name, el.get("value", "on")))
                continue
            data.append((name, el.get("value", "")))
        elif el.name == "textarea":
            text = el.string or ""
            data.append((name, text[1:] if text.startswith("\n") else text))
        else:
            options = el.find_all("option")
            chosen = [o for o in options if o.has_attr("selected")]
            if not chosen and options and not el.has_attr("multiple"):
                chosen = options[:1]
            data += [(name, o.get("value", o.get_text())) for o in chosen]
    return data


class EditForm:
    """The page editor as a browser holds it: the form's fields, its actions, its editing session."""

    def __init__(self, text: str, url: str):
        soup = BeautifulSoup(text, "html.parser")
        self.url = url
        self.messages = messages(text)
        form = soup.find("form", id="page-edit-form")
        if form is None:
            raise Failed("no edit form in the page editor: " + "; ".join(m for _l, m in self.messages)[:200])
        self.fields = form_data(soup, form)
        for div in form.find_all(attrs={"data-controller": "w-block"}):
            definition = unpack(json.loads(div["data-w-block-data-value"]))
            state = json.loads(div["data-w-block-arguments-value"])[0]
            self.fields = [(n, v) for n, v in self.fields if not n.startswith(div["id"] + "-")]
            block_fields(definition, state, div["id"], self.fields)
        self.csrf = self.get("csrfmiddlewaretoken")
        self.buttons = {b.get("name") for b in form.find_all("button") if b.get("name")}
        self.workflow_actions = {
            b["data-workflow-action-name"] for b in form.find_all(attrs={"data-workflow-action-name": True})
        }
        session = soup.find("form", class_="w-editing-sessions")
        self.ping_url = session.get("data-w-swap-src-value") if session else None
        self.ping_fields = (
            {i["name"]: i.get("value", "") for i in session.find_all("input") if i.get("type") == "hidden"}
            if session
            else {}
        )
        self.opened = time.monotonic()
        self.overwrite_revision_id = None

    def get(self, name: str) -> str | None:
        return next((v for n, v in self.fields if n == name), None)

    def set(self, name: str, value: str):
        if self.get(name) is None:
            raise Failed(f"the edit form has no field {name}")
        self.fields = [(n, value if n == name else v) for n, v in self.fields]

    def data(self, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        return [*self.fields, *extra]


def check_page(response, expect_path: str, must_say: str | None = None, what: str = ""):
    """A redirect to expect_path, shown with no error or warning and (if given) a success message naming must_say."""
    if response.status_code != 200:
        raise Failed(f"{what}: HTTP {response.status_code}")
    shown = messages(response.text)
    if not response.history or response.history[0].status_code != 302:
        raise Failed(f"{what}: no redirect (the form came back: {shown[:3]})")
    if urlparse(response.url).path != expect_path:
        raise Failed(f"{what}: redirected to {urlparse(response.url).path}, not {expect_path}: {shown[:3]}")
    bad = problems(shown)
    if bad:
        raise Failed(f"{what}: {bad[:3]}")
    if must_say is not None and not any("success" in level and must_say in m for level, m in shown):
        raise Failed(f"{what}: no success message naming “{must_say}”: {shown[:3]}")


# ---------------------------------------------------------------------------------------------- users
class AdminUser(HttpUser):
    abstract = True
    wait_time = between(2, 6)  # between two editing sessions
    role = ""

    def on_start(self):
        if not ACCOUNTS[self.role]:
            raise StopUser(f"no account left for a {self.role}")
        self.account = ACCOUNTS[self.role].pop(0)
        self.username = self.account["username"]
        self.pages = self.account["pages"]
        self.edits = 0
        with self.client.get("/admin/login/", name="login form", catch_response=True) as r:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text)
            if r.status_code != 200 or not token:
                r.failure(f"login form: HTTP {r.status_code}")
                raise StopUser()
        data = {
            "csrfmiddlewaretoken": token.group(1),
            "username": self.username,
            "password": self.account["password"],
            "next": "/admin/",
        }
        with self.client.post(
            "/admin/login/", data=data, name="login", catch_response=True, headers=self.form_headers("/admin/login/")
        ) as r:
            if r.status_code != 200 or urlparse(r.url).path != "/admin/" or 'name="password"' in r.text:
                r.failure(f"login as {self.username} failed: HTTP {r.status_code} at {r.url}")
                raise StopUser()

    def form_headers(self, path: str) -> dict:
        return {"Referer": self.host + path, "Origin": self.host}

    def timed(self, method: str, path: str, name: str, check, **kwargs):
        """One timed request; `check(response)` raises Failed when the admin did not do what was asked."""
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as r:
            try:
                result = check(r)
            except Failed as e:
                r.failure(f"{self.username}: {e}")
                raise
            except Exception as e:  # an unexpected answer is a failure, never a pass
                r.failure(f"{self.username}: {type(e).__name__}: {e}")
                raise Failed(str(e)) from e
            r.success()
            return result

    # ---- what a browser does
    def listing(self):
        pages = random.choice(["", "", "", "?p=2", f"?p={random.randint(3, 40)}"])

        def ok(r):
            if r.status_code != 200 or "listing" not in r.text:
                raise Failed(f"explorer: HTTP {r.status_code}")

        self.timed("GET", EXPLORER + pages, "explorer listing", ok)

    def open_editor(self, page_id: int) -> EditForm:
        path = f"/admin/pages/{page_id}/edit/"

        def ok(r):
            if r.status_code != 200:
                raise Failed(f"page editor: HTTP {r.status_code}")
            form = EditForm(r.text, path)
            bad = problems(form.messages)
            if bad:
                raise Failed(f"page editor: {bad[:3]}")
            return form

        return self.timed("GET", path, "page editor", ok)

    def think(self, low: float, high: float, form: EditForm | None = None, editing: bool = False):
        """Reading and typing; an open editor pings its editing session every 10 seconds meanwhile."""
        end = time.monotonic() + random.uniform(low, high)
        while True:
            now = time.monotonic()
            if form is None or not form.ping_url:
                gevent.sleep(max(0.0, end - now))
                return
            next_ping = form.opened + PING_EVERY * (int((now - form.opened) / PING_EVERY) + 1)
            if next_ping >= end:
                gevent.sleep(max(0.0, end - now))
                return
            gevent.sleep(next_ping - now)
            self.ping(form, editing)

    def ping(self, form: EditForm, editing: bool):
        data = dict(form.ping_fields)
        if editing:
            data["is_editing"] = "1"

        def ok(r):
            if r.status_code != 200 or "html" not in r.json():
                raise Failed(f"ping: HTTP {r.status_code}")
            if r.json().get("ping_url"):
                form.ping_url = r.json()["ping_url"]

        self.timed(
            "POST",
            form.ping_url,
            "editing session ping",
            ok,
            data=data,
            headers={"X-CSRFToken": form.csrf, "Accept": "application/json", **self.form_headers(form.url)},
        )

    def new_title(self, page: dict) -> str:
        self.edits += 1
        return f"{page['title']}（{self.username}第{self.edits}次修改）"

    def autosave(self, form: EditForm):
        extra = [("overwrite_revision_id", str(form.overwrite_revision_id))] if form.overwrite_revision_id else []

        def ok(r):
            answer = r.json()
            if r.status_code != 200 or not answer.get("success"):
                raise Failed(f"autosave: HTTP {r.status_code} {str(answer)[:200]}")
            form.overwrite_revision_id = answer["revision_id"]
            for name, value in (answer.get("field_updates") or {}).items():
                if form.get(name) is not None:
                    form.set(name, value)

        self.timed(
            "POST",
            form.url,
            "autosave",
            ok,
            data=form.data(*extra),
            headers={"X-CSRFToken": form.csrf, "Accept": "application/json", **self.form_headers(form.url)},
        )

    def send_action(self, form, title, name, button, who) -> dict:
        """Send the edit form with one action button, as the browser does; the admin must answer as on success.
        Returns when it was clicked and answered (epoch seconds), for published.jsonl."""
        if button[0] not in form.buttons:
            raise Failed(f"no {name} button for {who}")

        def ok(r):
            check_page(r, EXPLORER, must_say=title, what=name)

        clicked = time.time()
        self.timed("POST", form.url, name, ok, data=form.data(button), headers=self.form_headers(form.url))
        return {"clicked": clicked, "answered": time.time()}

    def save_draft(self, form: EditForm, title: str) -> EditForm:
        def ok(r):
            check_page(r, form.url, must_say=title, what="save draft")
            return EditForm(r.text, form.url)

        return self.timed("POST", form.url, "save draft", ok, data=form.data(), headers=self.form_headers(form.url))

    def edit_session(self, page: dict) -> tuple[EditForm, str]:
        """Open a story, change its title while autosave runs, maybe save a draft on the way."""
        self.listing()
        form = self.open_editor(page["id"])
        self.think(4, 10, form)
        title = self.new_title(page)
        form.set("title", title)
        self.autosave(form)
        self.think(3, 8, form, editing=True)
        return form, title


class Publisher(AdminUser):
    """A superuser: publishes straight from the editor (the only role allowed to, in this project)."""

    role = "publisher"
    fixed_count = len(ACCOUNTS["publisher"])

    @task
    def edit_and_publish(self):
        page = random.choice(self.pages)
        try:
            form, title = self.edit_session(page)
            if random.random() < 0.4:
                form = self.save_draft(form, title)
                self.think(3, 8, form)
            if random.random() < 0.25:
                return  # work in progress: left as a draft
            when = self.send_action(form, title, "publish", ("action-publish", "action-publish"), "a superuser")
            journal("published", page=page["id"], title=title, how="publish", user=self.username, **when)
        except Failed:
            self.wait()


class Editor(AdminUser):
    """An editor (编辑): saves drafts and submits them for review."""

    role = "editor"
    fixed_count = len(ACCOUNTS["editor"])

    @task
    def edit_and_submit(self):
        choices = [p for p in self.pages if p["id"] not in IN_REVIEW]
        if not choices:
            self.listing()
            return
        page = random.choice(choices)
        try:
            form, title = self.edit_session(page)
            form = self.save_draft(form, title)
            self.think(3, 8, form)
            if random.random() < 0.2:
                return  # not ready for review yet
            self.send_action(form, title, "submit for review", ("action-submit", "1"), "an editor")
            reviewer = REVIEWERS[EDITORS.index(self.username) % len(REVIEWERS)]
            IN_REVIEW[page["id"]] = {"title": title, "editor": self.username, "reviewer": reviewer}
        except Failed:
            self.wait()


class Reviewer(AdminUser):
    """A reviewer (审核员): approves from the editor what editors submitted, which publishes it."""

    role = "reviewer"
    fixed_count = len(ACCOUNTS["reviewer"])

    @task
    def review(self):
        def ok(r):
            if r.status_code != 200:
                raise Failed(f"dashboard: HTTP {r.status_code}")
            panel = BeautifulSoup(r.text, "html.parser").find(id="awaiting-review-section")
            links = panel.find_all("a", href=re.compile(r"^/admin/pages/\d+/edit/")) if panel else []
            return [int(a["href"].split("/")[3]) for a in links]

        try:
            waiting = self.timed("GET", "/admin/", "dashboard", ok)
            mine = [pid for pid in dict.fromkeys(waiting) if IN_REVIEW.get(pid, {}).get("reviewer") == self.username]
            if not mine:
                self.listing()
                return
            page_id = mine[-1]
            submission = IN_REVIEW[page_id]
            form = self.open_editor(page_id)
            if "approve" not in form.workflow_actions:
                raise Failed(f"no approve action on page {page_id} for a reviewer: {form.messages[:2]}")
            if form.get("title") != submission["title"]:
                raise Failed(f"the editor shows “{form.get('title')}”, submitted “{submission['title']}”")
            self.think(4, 10, form)

            def ok_approve(r):
                check_page(r, EXPLORER, what="approve")

            clicked = time.time()
            self.timed(
                "POST",
                form.url,
                "approve (publishes)",
                ok_approve,
                data=form.data(("action-workflow-action", "true"), ("workflow-action-name", "approve")),
                headers=self.form_headers(form.url),
            )
            del IN_REVIEW[page_id]
            journal(
                "published",
                page=page_id,
                title=submission["title"],
                how="approve",
                user=self.username,
                clicked=clicked,
                answered=time.time(),
            )
        except Failed:
            self.wait()
