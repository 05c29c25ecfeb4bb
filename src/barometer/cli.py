"""``python build.py``: build an edition of the Innovation Barometer."""

from __future__ import annotations

import argparse
import sys

from .errors import BarometerError, InputError

EPILOG = """\
examples:
  python build.py                                  # 2018 edition, Denmark, Danish -> _build/2018-dk-da/
  python build.py --lang en                        # the same in English
  python build.py --data /secure/innovation2018.sav   # the real microdata instead of the synthetic sample
  python build.py --out /tmp/site --no-pdf         # somewhere else, website only
  python build.py --check-data /secure/innovation2018.sav   # only check the file against the codebook
  python build.py --by municipality                # one report per municipality + index (cached, parallel)
  python build.py --by region --executor dask --scheduler tcp://127.0.0.1:8786
  python build.py --cache-max 500M                 # keep the cache (_build/.cache/engine/) under 500 MB
  python build.py --clean-cache                    # remove this checkout's cache, print how much was freed
  python build.py new-edition 2027 --from 2024     # scaffold a new edition, each value to revise marked TODO(2027)
  python build.py --check-edition 2027             # list what is still open in it
  python build.py --serve --port 8000              # preview on http://127.0.0.1:8000/, rebuilt and reloaded on save

exit status: 0 built; 1 a build step failed (the failed notebook is kept under _build/.failed/);
2 wrong parameters or input data (nothing is written).
"""


def _clean_cache(args) -> int:
    from .build.config import BaseConfig
    from .engine.cache import clean
    from .errors import BarometerError

    try:
        _, msg = clean(BaseConfig(cache_dir=args.cache_dir).default_cache_dir)
    except BarometerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(msg)
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python build.py",
        description="Build one edition of the Innovation Barometer report: run the chapter notebooks with "
                    "papermill, render the website (nbconvert) and one PDF (WeasyPrint), and write "
                    "estimates.csv and manifest.json. Without --data the synthetic sample is used (and "
                    "generated on first use); every page then says so.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    from .build.config import add_options

    add_options(ap)  # every build setting, declared once in barometer.build.config
    # -- what builds nothing
    ap.add_argument("--check-data", metavar="PATH", default=None,
                    help="only check PATH (with --frame, --edition, --country) against the codebook and the design; "
                         "print OK and a summary (exit 0) or one line per problem (exit 2); builds nothing")
    # -- editions (src/barometer/newedition.py); `build.py new-edition NEW --from OLD` is dispatched in main()
    ap.add_argument("--check-edition", metavar="EDITION", default=None,
                    help="list every gap and every value still copied from the edition it was scaffolded from "
                         "(`python build.py new-edition 2027 --from 2024`), exit 2; OK and exit 0 when ready; "
                         "builds nothing")
    ap.add_argument("--clean-cache", action="store_true",
                    help="remove the cache (this checkout's, or --cache-dir) and print how much was freed; "
                         "builds nothing")
    # -- the preview (src/barometer/build/serve.py): builds the website again and again
    ap.add_argument("--serve", action="store_true",
                    help="preview: serve the website (no PDF) on http://127.0.0.1:PORT/, rebuild (from the cache) "
                         "when notebooks/, data/, report_templates/ or the package's code change, and reload "
                         "the open page; a failed build shows in the page, the last good site stays; Ctrl-C stops")
    ap.add_argument("--port", type=int, default=8000, metavar="N", help="port of --serve (default: 8000)")
    # -- the build server (src/barometer/build/buildserver.py): the same build, warm between builds
    ap.add_argument("--warm", action="store_true",
                    help="build through this checkout's warm build server (started on first use; also "
                         "BAROMETER_WARM=1): the same build and outputs, without starting the program, its "
                         "workers and the data again each time; it ends after BAROMETER_WARM_IDLE seconds "
                         "(default 900) without a build, when the package's code changes, or with --stop-server")
    ap.add_argument("--stop-server", action="store_true",
                    help="end this checkout's build server (see --warm), if one runs; builds nothing")
    # -- the whole publication site (src/barometer/build/pubsite.py)
    ap.add_argument("--site", action="store_true",
                    help="build every edition x country x language the report configs define (each into "
                         "_build/<edition>-<country>-<lang>/, from the cache) and assemble one static website "
                         "in _build/site/ (or --out; the reports then go to <out>-reports/) with language, "
                         "edition and country switchers, sitemap.xml and 404.html")
    return ap


def main(argv=None) -> int:
    """Run ``build.py``; every expected failure is one line and an exit status, never a traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["new-edition"]:  # build.py new-edition 2027 --from 2024
        from .newedition import main_new

        return _guarded(main_new, argv[1:])
    args = parser().parse_args(argv)  # a wrong option: argparse prints usage and exits 2
    if args.stop_server:
        from .build import buildserver

        return _guarded(buildserver.stop, args)
    served = _through_server(args, argv)
    if served is not None:
        return served
    from .engine import lifetime

    lifetime.install_signal_handlers()
    return reported(lambda: _run(args, argv))


def _through_server(args, argv) -> int | None:
    """With ``--warm``: the build's exit status from the build server; None: build here
    (not asked for, not a build it runs, or it could not be reached: then it says why)."""
    from .build import buildserver

    if not buildserver.wanted(args) or not buildserver.served(args):
        return None
    try:
        return buildserver.run_client([a for a in argv if a != "--warm"], args)
    except (buildserver.Unavailable, BarometerError, OSError) as exc:
        print(f"note: building without the build server ({exc})", file=sys.stderr)
        return None


def reported(fn) -> int:
    """``fn()``'s exit status; every expected failure is one line on stderr and its exit status
    (also for the preview's builds, :mod:`barometer.build.previewhost`)."""
    from .engine import lifetime

    try:
        return fn()
    except lifetime.Interrupted as exc:
        print(f"interrupted ({exc}): the build stopped; nothing was published and the previous output is "
              "unchanged", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: the build stopped; nothing was published and the previous output is unchanged",
              file=sys.stderr)
        return 130
    except BarometerError as exc:
        prefix = "error: " if exc.exit_code == 2 else ("" if str(exc).startswith("internal error") else "build failed: ")
        print(f"{prefix}{exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # the disk is full or read-only, a permission, a path that is a file
        from .build.publish import describe_os_error

        print(f"build failed: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    except MemoryError:
        print("build failed: out of memory", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: say so, keep the traceback in a log file
        return _internal_error(exc)


def _guarded(fn, *args) -> int:
    try:
        return fn(*args)
    except OSError as exc:
        from .build.publish import describe_os_error

        print(f"failed: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a bug: say so, keep the traceback in a log file
        return _internal_error(exc)


def _internal_error(exc: BaseException) -> int:
    import traceback

    from .errors import save_traceback

    log = save_traceback("".join(traceback.format_exception(exc)))
    where = f"; the details are in {log}" if log else ""
    print(f"internal error: {type(exc).__name__}: {exc} (a bug in this program, not in your data){where}",
          file=sys.stderr)
    return 1


def _run(args, argv=()) -> int:
    if args.serve and args.by:
        raise InputError("--serve previews one edition's website; it does not take --by")
    if args.clean_cache:
        return _clean_cache(args)
    if args.site:
        return _site(args, argv)
    if args.check_edition is not None:
        from .newedition import main_check

        return main_check(args.check_edition)
    if args.check_data is not None:
        from .checkdata import main_check

        return main_check(args.edition, args.country, args.check_data, args.frame_path)
    from .build import build
    from .build.config import from_args

    cfg = from_args(args)
    if args.serve:
        from .build.serve import serve

        return serve(cfg.target, list(argv), args.port)
    from . import keep

    was = keep.enabled()
    if not was:  # for this build: the content files the plan checked are not parsed again for the pages
        keep.enable()
    try:
        build(cfg)
    finally:
        if not was:
            keep.enable(False)
    return 0


def _site(args, argv) -> int:
    from dataclasses import fields

    from .build.config import BuildConfig
    from .build.pubsite import build_site

    for flag, value in (("--serve", args.serve), ("--by", args.by), ("--data", args.data_path),
                        ("--frame", args.frame_path)):
        if value:
            raise InputError(f"--site builds every report from the synthetic samples; it does not take {flag}")
    for flag in ("--edition", "--country", "--lang"):
        if any(a == flag or a.startswith(flag + "=") for a in argv):
            raise InputError(f"--site builds every edition, country and language; it does not take {flag}")
    keep = {"pdf", "timings", "min_base", "quiet", "jobs", "force", "executor", "scheduler", "cache_dir", "cache_max"}
    options = {f.name: getattr(args, f.name) for f in fields(BuildConfig) if f.name in keep}
    out = args.out_dir.absolute() if args.out_dir else None
    build_site(out=out, builds_dir=out.parent / f"{out.name}-reports" if out else None, base_url=args.base_url,
               log=(lambda *_: None) if args.quiet else print, **options)
    return 0


def exit_now(code: int) -> None:
    """End the process with ``code`` as soon as its work is done: stdout and stderr flushed and
    the exit handlers run (the children's clean-up, temporary folders), then ``os._exit``.  The
    interpreter's own tear-down of a build's heap (pandas, WeasyPrint, the plan) took ~0.4 s
    after the build had printed its last line; nothing of ours needs it.  With a thread still
    running (one that is not a daemon), the normal exit waits for it."""
    import atexit
    import os
    import threading

    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(code if isinstance(code, int) else 1)


def run() -> None:
    """The ``barometer-build`` command: :func:`main`, then :func:`exit_now`."""
    exit_now(main())


if __name__ == "__main__":
    run()
