"""FastAPI application: console pages (Jinja2, no build step, no CDN), /api/ JSON with an
OpenAPI description, and the control endpoint's /status and /faults on the same port."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from base64 import b64decode
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from printscp import __version__
from printscp.control.server import MAX_BODY, Control, ControlError
from printscp.faults import FaultError, resolve, shipped
from printscp.forward import state as forward_state
from printscp.store import Store, StoreError
from printscp.store.db import since_bound
from printscp.store.explain import explain
from printscp.store.thumbs import THUMBS

log = logging.getLogger("printscp.web")

HERE = Path(__file__).parent
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
COOKIE = "printscp_token"


def create_app(store: Store, control: Control, *, token: str | None = None, loopback: bool = True) -> FastAPI:
    """`token`: required on every request when set (Bearer, basic auth password, or ?token= once
    for a browser, kept in a cookie). `loopback`: refuse Host headers that are no loopback name,
    so a web page cannot rebind a DNS name to the console."""
    app = FastAPI(title="printscp console", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="Jobs, association records (validation reports) and printers of a running printscp.")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(explain=explain, version=__version__)
    templates.env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=1, default=str)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def no_tracebacks(request: Request, call_next):
        """A failing page answers 500 with one log line; the console keeps serving."""
        try:
            return await call_next(request)
        except Exception as exc:
            log.error("web: %s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, 500)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if loopback:
            host = request.headers.get("host", "")
            host = host if host.endswith("]") else host.rsplit(":", 1)[0]
            if host not in LOOPBACK_HOSTS:
                return JSONResponse({"error": f"Host {host!r} refused: the console answers loopback names only"}, 403)
        if token is not None:
            given = _credential(request)
            if given is None or not hmac.compare_digest(given, token):
                return JSONResponse({"error": "authentication required: Authorization: Bearer TOKEN, basic auth "
                                              "with the token as password, or ?token=TOKEN"}, 401,
                                    headers={"WWW-Authenticate": 'Basic realm="printscp"'})
            response = await call_next(request)
            if request.query_params.get("token"):
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        return await call_next(request)

    # ---- control: the actions of printscp/control/server.py as JSON ----------------------------

    @app.exception_handler(ControlError)
    async def control_error(request: Request, exc: ControlError):
        return JSONResponse({"error": str(exc)}, exc.code)

    @app.exception_handler(FaultError)
    async def fault_error(request: Request, exc: FaultError):
        return JSONResponse({"error": str(exc)}, 400)

    async def json_body(request: Request) -> dict:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise ControlError(415, "send Content-Type: application/json")
        data = await request.body()
        if not 0 < len(data) <= MAX_BODY:
            raise ControlError(400, f"a JSON body of 1 to {MAX_BODY} bytes is needed")
        try:
            body = json.loads(data)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            raise ControlError(400, f"not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        return body

    @app.get("/status", tags=["control"], summary="Printer status of every printer")
    def get_status():
        return control.printer_status()

    @app.post("/status", tags=["control"], summary='Set Printer Status: {"status", "info", "printer"?}')
    async def post_status(request: Request):
        return control.set_printer_status(await json_body(request))

    @app.get("/faults", tags=["control"], summary="The fault file and each rule's counters")
    def get_faults():
        return control.faults()

    @app.post("/faults", tags=["control"], summary='Load a fault file: {"source", "text"} or {"scenario"}')
    async def post_faults(request: Request):
        body = await json_body(request)
        if "scenario" in body:  # a shipped scenario by name, for the printers page
            if body["scenario"] not in shipped():
                raise ControlError(404, f"no shipped scenario {body['scenario']!r}")
            path = resolve(body["scenario"])
            body = {"source": str(path), "text": path.read_text(encoding="utf-8")}
        return control.load_faults(body)

    @app.delete("/faults", tags=["control"], summary="No scripted faults any more")
    def delete_faults():
        return control.clear_faults()

    # ---- JSON API ----------------------------------------------------------------------------

    def found(action, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except StoreError as exc:
            raise HTTPException(404, str(exc)) from None

    def with_forwarding(job: dict) -> dict:
        """Each destination's state, attempts and last result, from the outbox files."""
        job["forwarding"] = forward_state.for_job(store.output, job["folder"])
        return job

    @app.get("/api/jobs", tags=["jobs"], summary="Jobs, newest first, with their films")
    def api_jobs(limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), since: str | None = None,
                 ae: str | None = None, state: str | None = None, printer: str | None = None, q: str | None = None):
        if since is not None:
            try:
                since = since_bound(since)
            except ValueError as exc:
                raise HTTPException(422, f"since: {exc}") from None
        # plain rows of str/int/None: JSONResponse directly, without FastAPI's slower generic encoder
        return JSONResponse({"jobs": store.jobs(since=since, ae=ae, state=state, printer=printer, search=q,
                                                limit=limit, offset=offset)})

    @app.get("/api/jobs/{job_id}", tags=["jobs"],
             summary="One job: row, films, job.json, association ids, forwarding state")
    def api_job(job_id: str):
        return with_forwarding(found(store.job, job_id))

    @app.get("/api/associations", tags=["associations"], summary="Association records, newest first")
    def api_associations(limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                         nothing_printed: bool = False, ae: str | None = None):
        return {"associations": store.associations(nothing_printed=nothing_printed, ae=ae, limit=limit,
                                                   offset=offset)}

    @app.get("/api/associations/{association_id}", tags=["associations"], summary="One association record")
    def api_association(association_id: str):
        return found(store.association, association_id)

    @app.get("/api/printers", tags=["printers"], summary="Printers: status, profile, fault counters")
    def api_printers():
        return _printers(control)

    # ---- files: film PNGs, PDFs and thumbnails from the output folder only ------------------

    @app.get("/files/{path:path}", include_in_schema=False)
    def files(path: str):
        root = store.output.resolve()
        try:
            target = (root / path).resolve()
            found = root in target.parents and target.is_file()
        except (OSError, ValueError):  # a NUL byte, a name too long for the file system
            found = False
        if not found or target.suffix.lower() not in (".png", ".pdf", ".json"):
            raise HTTPException(404, "no such file")  # the store's database has none of these suffixes
        return FileResponse(target, headers={"Cache-Control": "max-age=3600" if THUMBS in target.parts else "no-cache"})

    # ---- pages ---------------------------------------------------------------------------------

    def page(request: Request, name: str, **context):
        return templates.TemplateResponse(request, name, context)

    def job_filters(request: Request) -> dict:
        p = request.query_params
        return {k: p.get(k) or None for k in ("q", "ae", "state", "printer")}

    def listed(jobs: list[dict]) -> list[dict]:
        forwarded = forward_state.for_jobs(store.output, [j["folder"] for j in jobs])
        for j in jobs:
            j["forwarded"] = forward_state.brief(forwarded[j["folder"]])
        return jobs

    def filtered_jobs(f: dict) -> list[dict]:
        return listed(store.jobs(search=f["q"], ae=f["ae"], state=f["state"], printer=f["printer"], limit=50))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request):
        f = job_filters(request)
        return page(request, "jobs.html", jobs=filtered_jobs(f), filters=f,
                    refused=store.associations(nothing_printed=True, limit=5))

    @app.get("/fragments/jobs", response_class=HTMLResponse, include_in_schema=False)
    def jobs_fragment(request: Request):
        return page(request, "job_rows.html", jobs=filtered_jobs(job_filters(request)))

    @app.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job_page(request: Request, job_id: str):
        job = with_forwarding(found(store.job, job_id))
        records = [found(store.association, a) for a in job["associations"]]
        return page(request, "job.html", job=job, m=job.get("manifest") or {}, records=records)

    @app.get("/associations", response_class=HTMLResponse, include_in_schema=False)
    def associations_page(request: Request, all: bool = False):  # noqa: A002 - a query parameter
        rows = store.associations(nothing_printed=not all, limit=200)
        return page(request, "associations.html", rows=rows, all=all)

    @app.get("/associations/{association_id}", response_class=HTMLResponse, include_in_schema=False)
    def association_page(request: Request, association_id: str):
        return page(request, "association.html", record=found(store.association, association_id))

    @app.get("/printers", response_class=HTMLResponse, include_in_schema=False)
    def printers_page(request: Request):
        return page(request, "printers.html", printers=_printers(control), scenarios=shipped())

    return app


def _printers(control: Control) -> dict:
    status = control.printer_status()["printers"]
    server = control.print_server
    return {
        "printers": [{"ae_title": ae, "profile": p.profile.name, "description": p.profile.profile.description,
                      "printer_name": p.profile.printer.printer_name, **status[ae]}
                     for ae, p in server.printers.items()],
        "faults": control.faults(),
    }


def _credential(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return b64decode(value).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return None
    return request.query_params.get("token") or request.cookies.get(COOKIE)


def new_token() -> str:
    return secrets.token_urlsafe(18)
