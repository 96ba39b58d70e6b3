"""python manage.py training_worker [--once] [--poll SECONDS]: run queued training and
activation jobs in this process, one at a time, until stopped (Ctrl-C or SIGTERM).

For deployments with several server processes: set PORTAL_TRAINING_WORKER=external (the
servers then only queue jobs) and REDIS_URL (so progress reaches every server's websockets),
and start one or more of these workers beside them. Runs left running by a worker that died
are marked interrupted when a worker or server starts.
"""

import signal
import threading

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.management.base import BaseCommand

from retrieval.training import worker as tasks


class Command(BaseCommand):
    help = "Run queued training and activation jobs (the external worker)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run the jobs waiting now, then exit")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks at the queue when idle")

    def handle(self, *args, once: bool, poll: float, **opts):
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            # SIGTERM stops like Ctrl-C: the running job is marked interrupted, not left "running".
            signal.signal(signal.SIGTERM, signal.default_int_handler)
        self.stdout.write(f"training worker {tasks.worker_id()}: waiting for jobs" + (" (once)" if once else ""))
        if isinstance(get_channel_layer(), InMemoryChannelLayer):
            self.stderr.write("no REDIS_URL: live progress cannot reach the server's websockets from this process "
                              "(run pages show it when reloaded)")
        try:
            done = tasks.work_forever(poll_s=poll, stop=stop, once=once)
        except KeyboardInterrupt:
            self.stdout.write("stopped")
            return
        self.stdout.write(self.style.SUCCESS(f"ran {done} job(s)"))
