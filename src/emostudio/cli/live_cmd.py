"""`emostudio live`: emotion from a microphone, or from a file/URL in (simulated) real time, as it happens.

Prints one running line (rich Live) with the current label of each speaker, then the whole stream's result,
and saves the run folder like `analyze` does.
"""

from __future__ import annotations

import argparse
import json
import time

from rich.live import Live
from rich.text import Text

from emostudio.cli.common import (
    EXIT_FAILED_INPUTS,
    EXIT_OK,
    EXIT_USAGE,
    add_adapter_arg,
    add_channel_args,
    add_model_args,
    check_out_dir,
    err_console,
    fail,
    load_with_adapter,
    result_doc,
    say,
)


def register(sub) -> None:
    p = sub.add_parser(
        "live",
        help="emotion from a microphone or a stream as it happens",
        description="Analyse live audio: a microphone (needs the 'live' extra: sounddevice + PortAudio), or a "
        "file or URL replayed in real time. An update every --hop seconds scores the last --window seconds; the "
        "whole stream is analysed at the end (like `analyze --granularity frame`) and saved as a run folder. "
        "Stop with Ctrl-C. Exit code 0: done; 1: the stream could not be analysed (e.g. it was silent); "
        "2: nothing done (bad options, no model, no input).",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--device", default=None, help="microphone: device number or name (default: the system's)"
    )
    src.add_argument("--input", metavar="FILE_OR_URL", help="replay a file in real time, or read a live URL")
    src.add_argument("--list-devices", action="store_true", help="list the microphones and exit")
    p.add_argument(
        "--speed", type=float, default=1.0, help="--input FILE: times real time (0: as fast as possible)"
    )
    p.add_argument(
        "--rate", type=int, default=None, help="microphone sample rate in Hz (default: the device's)"
    )
    p.add_argument(
        "--mic-channels", type=int, default=None, help="microphone channels to record (default: up to 2)"
    )
    add_channel_args(
        p,
        channels="mix: one speaker (default); separate: each channel its own speaker (agent/customer lines)",
        roles="channel roles with --channels separate, e.g. agent,customer",
    )
    p.add_argument("--hop", type=float, default=0.5, help="seconds between updates (default 0.5)")
    p.add_argument("--window", type=float, default=3.0, help="seconds each update scores (default 3)")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds of audio")
    p.add_argument("--out", default="outputs", help="folder for the run folder (default: outputs)")
    p.add_argument("--no-save", action="store_true", help="do not write a run folder")
    p.add_argument("--json", action="store_true", help="print every update and the result as JSON lines")
    add_adapter_arg(p)
    add_live_model_args(p)
    p.set_defaults(func=run)


def add_live_model_args(p: argparse.ArgumentParser) -> None:
    """The model options of every command, with the model's --device called --model-device here (--device is
    the microphone)."""
    scratch = argparse.ArgumentParser(add_help=False)
    add_model_args(scratch)
    for action in scratch._actions:
        flags = ["--model-device" if f == "--device" else f for f in action.option_strings]
        kwargs = {
            "default": action.default,
            "help": action.help,
            "dest": "model_device" if flags == ["--model-device"] else action.dest,
        }
        if action.choices:
            kwargs["choices"] = action.choices
        if action.type:
            kwargs["type"] = action.type
        if action.metavar:
            kwargs["metavar"] = action.metavar
        if action.nargs == 0:
            kwargs["action"] = "store_true"
            kwargs.pop("type", None)
        p.add_argument(*flags, **kwargs)


def running_line(elapsed_s: float, current: dict, segments: int, skipped: int) -> Text:
    """`12.5 s │ agent 😠 愤怒 Angry 72.4% leaning │ customer 🔇 静音 Silence │ 4 segments`."""
    line = Text(f"⏺ {elapsed_s:6.1f} s", style="bold")
    for key in sorted(current, key=lambda k: (k is not None, k if k is not None else -1)):
        u = current[key]
        names = u.to_dict()["label"]
        who = f"{u.role} " if u.role else ""
        line.append(" │ ")
        line.append(who, style="cyan")
        line.append(f"{names['emoji']} {names['zh']} {names['en']}")
        if not u.silent:
            line.append(f" {u.confidence * 100:.1f}% ", style="bold")
            line.append(u.band.en, style="dim")
    line.append(f" │ {segments} segment{'s' if segments != 1 else ''}", style="dim")
    if skipped:
        line.append(f" │ {skipped} hops skipped (model behind real time)", style="yellow")
    return line


def run(args: argparse.Namespace) -> int:
    from emostudio.errors import EmoStudioError
    from emostudio.live.sources import LiveInputError, list_devices
    from emostudio.options import AnalysisOptions

    if args.list_devices:
        try:
            say(list_devices())
        except LiveInputError as exc:
            fail(str(exc))
            return EXIT_USAGE
        return EXIT_OK
    if args.speed < 0 or (args.seconds is not None and args.seconds <= 0):
        fail("--speed must be ≥ 0 and --seconds positive")
        return EXIT_USAGE
    try:
        roles = AnalysisOptions(channels=args.channels, roles=args.roles).check().role_names
    except EmoStudioError as exc:
        fail(str(exc))
        return EXIT_USAGE
    if not args.no_save and not check_out_dir(args.out):
        return EXIT_USAGE
    loaded = load_with_adapter(args, argparse.Namespace(**{**vars(args), "device": args.model_device}))
    if loaded is None:
        return EXIT_USAGE
    rec, adapter = loaded
    try:
        source = _open_source(args)
        live = _open_stream(rec, source, args, roles, adapter)
    except EmoStudioError as exc:
        fail(str(exc))
        return EXIT_USAGE
    if not args.json:
        say(
            f"listening to {source.name} ({source.sample_rate} Hz, {source.channels} ch) — Ctrl-C to stop",
            err=True,
        )
    started = time.monotonic()
    failed = _listen(live, source, args)
    if failed is not None:
        fail(str(failed))
        live.release()
        return EXIT_FAILED_INPUTS if live.duration_s else EXIT_USAGE
    return _close(live, args, started)


def _open_source(args: argparse.Namespace):
    """The file, URL or microphone to listen to (an EmoStudioError saying why it cannot be opened)."""
    from emostudio.live.sources import open_file_or_url, open_microphone

    if args.input:
        return open_file_or_url(args.input, args.speed)
    device = int(args.device) if args.device is not None and str(args.device).isdigit() else args.device
    return open_microphone(device, args.rate, args.mic_channels)


def _open_stream(rec, source, args: argparse.Namespace, roles, adapter=None):
    """The live stream for `source` (the source is closed when the stream cannot be made); the closing Result
    carries `adapter`'s reading when one is given."""
    realtime = source.realtime or args.speed > 0
    try:
        return rec.stream(
            source.sample_rate,
            channels=args.channels,
            input_channels=source.channels,
            roles=roles,
            name=args.input or f"microphone {source.name}",
            hop_s=args.hop,
            window_s=args.window,
            min_window_s=min(1.0, args.window),
            latest_only=realtime,
            max_duration_s=args.max_duration,
            adapter=adapter,
        )
    except BaseException:
        source.close()
        raise


def _listen(live, source, args: argparse.Namespace):
    """Feed the source's chunks to the stream, showing each update; the error that stopped it, or None."""
    from emostudio.errors import EmoStudioError
    from emostudio.live import LiveNotice, LiveUpdate

    current: dict = {}
    display = Live(Text("waiting for audio …"), console=err_console, refresh_per_second=8, transient=False)
    with display if not args.json else _Null():
        try:
            for chunk in source.chunks:
                for event in live.feed(chunk):
                    if args.json:
                        print(json.dumps(event.to_dict(), ensure_ascii=False), flush=True)
                    elif isinstance(event, LiveNotice):
                        display.console.print(Text(f"ℹ {event.message['en']} / {event.message['zh']}"))
                    if isinstance(event, LiveUpdate):
                        current[event.channel] = event
                if not args.json and current:
                    segments = sum(len(u.segments) for u in current.values())
                    display.update(running_line(live.duration_s, current, segments, live.stats.skipped))
                if args.seconds is not None and live.duration_s >= args.seconds:
                    break
        except KeyboardInterrupt:
            pass  # stop listening; the stream so far is analysed and saved below
        except EmoStudioError as exc:
            return exc
        finally:
            source.close()
    return None


def _close(live, args: argparse.Namespace, started: float) -> int:
    """The last hop's update, then the whole stream analysed (and saved) and printed."""
    from emostudio.errors import EmoStudioError

    try:
        for event in live.flush():  # the resampler's last samples may complete a last hop
            if args.json:
                print(json.dumps(event.to_dict(), ensure_ascii=False), flush=True)
        with err_console.status(Text(f"analysing the whole stream ({live.duration_s:.1f} s) …")):
            result = live.close(output_dir=None if args.no_save else args.out)
    except EmoStudioError as exc:
        fail(f"nothing to save: {exc}")
        return EXIT_FAILED_INPUTS
    if args.json:
        doc = result_doc(result)
        print(json.dumps({"type": "result", **doc}, ensure_ascii=False), flush=True)
        return EXIT_OK
    from emostudio.cli.analyze_cmd import describe, describe_channels

    say(f"{live.name} · {live.duration_s:.1f} s in {time.monotonic() - started:.1f} s", "bold")
    for line in describe(result):
        say(f"  {line}")
    for line in describe_channels(result):
        say(f"  {line}")
    return EXIT_OK


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
