"""The local AWS emulator: moto's server, with S3 and SQS state kept on disk.

moto keeps everything in memory, so a restart of `make dev` used to lose every attachment
and every queued message while the database still pointed at them. This process runs the
same moto application (``python -m local.emulator --data DIR``) and writes S3 and SQS
state through to ``DIR`` *before* moto's answer leaves the process:

- S3: after any call that changes an object (PutObject, the browser's presigned POST,
  CopyObject, CompleteMultipartUpload, DeleteObject(s), object ACL/retention/legal hold),
  every version of that key, pickled (moto's ``FakeKey`` pickles its bytes), one file per
  key; after any bucket call (create, delete, versioning, CORS, lifecycle, policy, …) the
  bucket without its objects. Multipart uploads in progress are not kept.
- SQS: one file per message, written when the message enters a queue (SendMessage,
  SendMessageBatch, a move to the dead-letter queue) and removed when it leaves
  (DeleteMessage, PurgeQueue, DeleteQueue); each queue's attributes and tags.

Each file is written to a temporary name and renamed, so a file is whole or absent.
Nothing is fsynced: what an acknowledged call wrote is in the kernel's page cache when the
answer is sent, so it survives the emulator being killed (SIGKILL included), not a crash
of the machine itself. On start the state is loaded back: objects with their version ids,
ETags and dates, queues with their attributes and dead-letter wiring, and messages with
their ids and bodies. Receive counts and visibility are not kept: a message that was in
flight is visible again at once (delivery is at least once; consumers are idempotent).

The data directory is locked (flock) while the emulator runs: a second emulator on the
same directory refuses to start rather than interleave writes.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import fcntl
import hashlib
import inspect
import json
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto.s3 import models as s3_models
from moto.sqs import models as sqs_models

from local import moto_sqs

# S3Backend methods that change one object: (bucket_name, key_name) are among their
# arguments. Every version of that key is written after the call.
_S3_KEY_METHODS = (
    "put_object",
    "copy_object",
    "complete_multipart_upload",
    "delete_object",
    "put_object_acl",
    "put_object_legal_hold",
    "put_object_retention",
)
# S3Backend methods that change a bucket's configuration or existence.
_S3_BUCKET_PREFIXES = ("create_bucket", "delete_bucket", "put_bucket_")


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _safe_name(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Store:
    """The on-disk image of moto's S3 and SQS backends under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.s3_root = root / "s3"
        self.sqs_root = root / "sqs"
        # The queue directory each persisted message is in (moves to the DLQ rename it).
        self._message_dirs: dict[str, Path] = {}
        # Per-queue attributes as given (CreateQueue, SetQueueAttributes), for a faithful
        # re-creation.
        self._queue_attributes: dict[Path, dict[str, Any]] = {}
        self._lock = threading.RLock()
        # S3 writes noted during a request, done when moto has built its answer (moto sets
        # an object's metadata, ACL and checksum after put_object returns).
        self._pending = threading.local()

    def pending(self, write: Callable[..., None], *args: Any) -> None:
        todo: dict[tuple[Any, ...], Callable[..., None]] = self._pending.__dict__.setdefault(
            "todo", {}
        )
        todo[(write.__name__, id(args[0]), *args[1:])] = lambda: write(*args)

    def flush(self) -> None:
        todo = self._pending.__dict__.pop("todo", {})
        for write in todo.values():
            write()

    # --- S3 --------------------------------------------------------------------------

    def _bucket_dir(self, bucket: Any) -> Path:
        return self.s3_root / str(bucket.account_id) / str(bucket.partition) / str(bucket.name)

    def save_bucket(self, backend: Any, bucket_name: str) -> None:
        with self._lock:
            bucket = backend.buckets.get(bucket_name)
            if bucket is None:  # deleted
                for partition_dir in (self.s3_root / backend.account_id).glob("*"):
                    shutil.rmtree(partition_dir / bucket_name, ignore_errors=True)
                return
            shell = copy.copy(bucket)
            shell.keys = s3_models._VersionedKeyStore()
            shell.multiparts = s3_models.MultipartDict()
            _atomic_write(self._bucket_dir(bucket) / "bucket.pickle", pickle.dumps(shell))

    def save_key(self, backend: Any, bucket_name: str, key_name: str) -> None:
        bucket = backend.buckets.get(bucket_name)
        if bucket is None:
            return
        path = self._bucket_dir(bucket) / "objects" / f"{_safe_name(key_name)}.pickle"
        with self._lock:
            versions = list(bucket.keys.getlist(key_name, []))
            if versions:
                _atomic_write(path, pickle.dumps((key_name, versions)))
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def _load_s3(self) -> tuple[int, int]:
        buckets = objects = 0
        for shell_path in sorted(self.s3_root.glob("*/*/*/bucket.pickle")):
            shell = pickle.loads(shell_path.read_bytes())
            backend = s3_models.s3_backends[shell.account_id][shell.partition]
            backend.buckets[shell.name] = shell
            s3_models.s3_backends.bucket_accounts[shell.name] = (shell.partition, shell.account_id)
            buckets += 1
            for key_path in sorted((shell_path.parent / "objects").glob("*.pickle")):
                key_name, versions = pickle.loads(key_path.read_bytes())
                shell.keys.setlist(key_name, versions)
                objects += 1
        return buckets, objects

    # --- SQS -------------------------------------------------------------------------

    def _queue_dir(self, queue: Any) -> Path:
        return self.sqs_root / str(queue.account_id) / str(queue.region) / str(queue.name)

    def save_queue(self, queue: Any, given: dict[str, Any] | None = None) -> None:
        directory = self._queue_dir(queue)
        with self._lock:
            attributes = self._queue_attributes.setdefault(directory, {})
            attributes.update(given or {})
            meta = {
                "name": queue.name,
                "created": queue.created_timestamp,
                "attributes": attributes,
                "tags": dict(queue.tags),
            }
            _atomic_write(directory / "queue.json", json.dumps(meta, default=str).encode())

    def drop_queue(self, account_id: str, region: str, name: str) -> None:
        directory = self.sqs_root / account_id / region / name
        with self._lock:
            shutil.rmtree(directory, ignore_errors=True)
            self._queue_attributes.pop(directory, None)
            for message_id in [m for m, d in self._message_dirs.items() if d == directory]:
                del self._message_dirs[message_id]

    def purge_queue(self, queue: Any) -> None:
        directory = self._queue_dir(queue) / "messages"
        with self._lock:
            shutil.rmtree(directory, ignore_errors=True)
            for message_id in [m for m, d in self._message_dirs.items() if d == directory]:
                del self._message_dirs[message_id]

    def message_adding(self, queue: Any, message: Any) -> None:
        """Before the message enters ``queue`` (so no consumer can see it unwritten)."""
        directory = self._queue_dir(queue) / "messages"
        target = directory / message.id
        with self._lock:
            previous = self._message_dirs.get(message.id)
            self._message_dirs[message.id] = directory
            if previous is not None and previous != directory:  # a move to the DLQ
                directory.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileNotFoundError):
                    os.replace(previous / message.id, target)
                    return
        state = copy.copy(message.__dict__)
        state["receipt_handle"] = None
        state["_old_receipt_handles"] = []
        _atomic_write(target, pickle.dumps(state))

    def messages_removed(self, queue: Any, message_ids: list[str]) -> None:
        with self._lock:
            for message_id in message_ids:
                directory = self._message_dirs.pop(message_id, None)
                if directory is not None:
                    with contextlib.suppress(FileNotFoundError):
                        (directory / message_id).unlink()

    def _load_sqs(self) -> tuple[int, int]:
        metas: list[tuple[Path, dict[str, Any]]] = []
        for meta_path in self.sqs_root.glob("*/*/*/queue.json"):
            metas.append((meta_path.parent, json.loads(meta_path.read_text())))
        metas.sort(key=lambda item: float(item[1]["created"]))
        queues = []
        for directory, meta in metas:
            account_id, region = directory.parent.parent.name, directory.parent.name
            backend = sqs_models.sqs_backends[account_id][region]
            attributes = dict(meta["attributes"])
            self._queue_attributes[directory] = dict(attributes)
            # A dead-letter queue may have been made after its source: wire redrive later.
            redrive = {k: attributes.pop(k) for k in ("RedrivePolicy",) if k in attributes}
            queue = backend.create_queue(meta["name"], meta["tags"], **attributes)
            queue.created_timestamp = float(meta["created"])
            queues.append((backend, queue, directory, redrive))
        messages = 0
        for _backend, queue, directory, redrive in queues:
            if redrive:
                queue._set_attributes({**self._queue_attributes[directory], **redrive})
            loaded: list[Any] = []
            for path in (directory / "messages").glob("*"):
                message: Any = sqs_models.Message.__new__(sqs_models.Message)
                message.__dict__.update(pickle.loads(path.read_bytes()))
                message.visible_at = 0.0
                loaded.append(message)
                self._message_dirs[message.id] = path.parent
            loaded.sort(key=lambda m: (m.sent_timestamp or 0, m.id))
            queue._messages.extend(loaded)
            messages += len(loaded)
        return len(queues), messages

    def load(self) -> dict[str, int]:
        with self._lock:
            for partial in self.root.rglob(".tmp-*"):  # a write cut short by a kill
                partial.unlink()
            buckets, objects = self._load_s3()
            queues, messages = self._load_sqs()
        return {"buckets": buckets, "objects": objects, "queues": queues, "messages": messages}


def _wrap(owner: type, name: str, after: Callable[..., None]) -> None:
    """Replace ``owner.name`` with a call that runs ``after(self, bound_args, result)``
    once the original returned."""
    original = getattr(owner, name)
    signature = inspect.signature(original)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        after(self, bound.arguments, result)
        return result

    wrapper.__name__ = name
    wrapper.__doc__ = original.__doc__
    setattr(owner, name, wrapper)


def install(store: Store) -> None:
    """Make moto's S3 and SQS backends write through to ``store``."""
    _install_s3(store)
    _install_sqs(store)


def _bucket_methods() -> list[str]:
    s3 = s3_models.S3Backend
    return [n for n in dir(s3) if n.startswith(_S3_BUCKET_PREFIXES) and callable(getattr(s3, n))]


def _install_s3(store: Store) -> None:
    s3 = s3_models.S3Backend

    def key_changed(backend: Any, args: dict[str, Any], result: Any) -> None:
        if "dest_key_name" in args:  # copy_object
            store.pending(store.save_key, backend, args["dest_bucket_name"], args["dest_key_name"])
        elif "key_name" in args:
            store.pending(store.save_key, backend, args["bucket_name"], args["key_name"])
        elif result is not None:  # complete_multipart_upload: the key it made
            store.pending(store.save_key, backend, args["bucket_name"], result.name)

    for name in _S3_KEY_METHODS:
        _wrap(s3, name, key_changed)

    def keys_deleted(backend: Any, args: dict[str, Any], _result: Any) -> None:
        for entry in args.get("objects", []):
            store.pending(store.save_key, backend, args["bucket_name"], entry["Key"])

    _wrap(s3, "delete_objects", keys_deleted)

    def bucket_changed(backend: Any, args: dict[str, Any], _result: Any) -> None:
        store.pending(store.save_bucket, backend, args["bucket_name"])

    for name in _bucket_methods():
        _wrap(s3, name, bucket_changed)


def _install_sqs(store: Store) -> None:
    sqs = sqs_models.SQSBackend
    queue_cls = sqs_models.Queue

    def queue_created(_backend: Any, args: dict[str, Any], queue: Any) -> None:
        store.save_queue(queue, dict(args.get("kwargs", {})))

    _wrap(sqs, "create_queue", queue_created)

    def queue_changed(backend: Any, args: dict[str, Any], _result: Any) -> None:
        store.save_queue(backend.get_queue(args["queue_name"]), args.get("attributes"))

    for name in ("set_queue_attributes", "tag_queue", "untag_queue"):
        _wrap(sqs, name, queue_changed)

    def queue_deleted(backend: Any, args: dict[str, Any], _result: Any) -> None:
        store.drop_queue(backend.account_id, backend.region_name, args["queue_name"])

    _wrap(sqs, "delete_queue", queue_deleted)

    def queue_purged(backend: Any, args: dict[str, Any], _result: Any) -> None:
        store.purge_queue(backend.get_queue(args["queue_name"]))

    _wrap(sqs, "purge_queue", queue_purged)

    original_add = queue_cls.add_message

    def add_message(self: Any, message: Any) -> None:
        store.message_adding(self, message)
        original_add(self, message)
        if self.fifo_queue and not any(m is message for m in self._messages):
            store.messages_removed(self, [message.id])  # a FIFO duplicate, not added

    queue_cls.add_message = add_message  # type: ignore[method-assign]

    original_delete = queue_cls.delete_message

    def delete_message(self: Any, receipt_handle: str) -> None:
        removed = [m.id for m in moto_sqs.holders(self, receipt_handle)]
        original_delete(self, receipt_handle)
        store.messages_removed(self, removed)

    queue_cls.delete_message = delete_message  # type: ignore[method-assign]


def _write_through(app: Any, store: Store) -> Any:
    """The moto WSGI app, with what a request changed written before its answer is sent
    (werkzeug writes the status line only when the returned body is iterated)."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            body = app(environ, start_response)
            if not isinstance(body, list):
                body = list(body)  # moto answers whole bodies; make sure it is built
            store.flush()
            return body
        finally:
            store._pending.__dict__.pop("todo", None)

    return middleware


def _lock(root: Path, wait: float = 3.0) -> Any:
    """Hold ``root`` for this process. A killed predecessor's lock goes with it (the kernel
    drops it), which may take a moment: wait for it rather than fail at once."""
    root.mkdir(parents=True, exist_ok=True)
    handle = (root / "lock").open("w")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                sys.exit(f"another emulator is using {root} (its lock is held)")
            time.sleep(0.1)


def serve(host: str, port: int, data: Path | None, *, moto_sqs_as_is: bool = False) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    if not moto_sqs_as_is:
        moto_sqs.install()  # before the state is loaded: loaded messages are untracked too
    lock = store = None
    if data is not None:
        lock = _lock(data)
        store = Store(data)
        started = time.monotonic()
        counts = store.load()
        install(store)
        print(
            f"emulator state loaded from {data} in {time.monotonic() - started:.2f} s: "
            + ", ".join(f"{n} {what}" for what, n in counts.items()),
            flush=True,
        )
    os.environ.setdefault("MOTO_PORT", str(port))
    moto_app = DomainDispatcherApplication(create_backend_app)
    app: Any = moto_app if store is None else _write_through(moto_app, store)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)

    def stop(_signum: int, _frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if lock is not None:
            lock.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, help="keep S3 and SQS state here (default: memory)")
    parser.add_argument(
        "--moto-sqs-as-is",
        action="store_true",
        help="without local/moto_sqs.py's patch (to measure what it changes)",
    )
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.data, moto_sqs_as_is=args.moto_sqs_as_is)


if __name__ == "__main__":
    main()
