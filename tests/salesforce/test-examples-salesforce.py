# test-examples-salesforce.py: examples/salesforce.c (built as
# salesforce-events) and examples/salesforce.py against the Salesforce
# model server (sf-model-server): the token expires in the middle of a run
# and is refreshed through the token endpoint without losing an event, and
# a second run resumes after the replay id the first one stored.
#
#   test-examples-salesforce.py SF_MODEL_SERVER SALESFORCE_EVENTS EXAMPLES_DIR
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

MODEL, C_EXAMPLE, EXAMPLES_DIR = sys.argv[1:4]
del sys.argv[1:4]

ACCESS_TOKEN = "00Dtest!first-access-token"
REFRESH_TOKEN = "refresh-token-secret"
CLIENT_ID = "3MVG9test-client"
TIMEOUT = 20


class Lines:
    """The lines a process writes to a pipe, read by a thread."""

    def __init__(self, stream):
        self.lines = []
        self.queue = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def wait_for(self, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if predicate(line):
                return line
        while time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"not seen in time; lines so far: {self.lines}")

    def drain(self):
        while True:
            line = self.queue.get(timeout=TIMEOUT)
            if line is None:
                return self.lines
            self.lines.append(line)


class Model:
    def __init__(self):
        self.process = subprocess.Popen(
            [MODEL, "--timeout", "2000", "--access-token", ACCESS_TOKEN,
             "--refresh-token", REFRESH_TOKEN, "--client-id", CLIENT_ID],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.process.stdout.readline().split()
        assert ready[0] == "READY", ready
        self.url = ready[1]

    def command(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert not answer.startswith("ERROR"), answer
        return answer

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=TIMEOUT)
        self.process.stdout.close()


class ExampleTest:
    """The same scenario for both examples (command() says how to run one)."""

    CHANNEL = "/event/Order_Placed__e"

    def setUp(self):
        self.model = Model()
        self.dir = tempfile.mkdtemp(prefix="sf-example-")
        self.state = os.path.join(self.dir, "state", "replay.ini")
        self.outputs = []

    def tearDown(self):
        self.model.stop()
        shutil.rmtree(self.dir)
        # No token in anything the examples printed.
        for text in self.outputs:
            for secret in (ACCESS_TOKEN, REFRESH_TOKEN, "00Dmodel!"):
                self.assertNotIn(secret, text)

    def run_example(self, max_events):
        env = dict(os.environ)
        env.update({
            "SALESFORCE_INSTANCE_URL": self.model.url,
            "SALESFORCE_ACCESS_TOKEN": ACCESS_TOKEN,
            "SALESFORCE_REFRESH_TOKEN": REFRESH_TOKEN,
            "SALESFORCE_CLIENT_ID": CLIENT_ID,
            "SALESFORCE_CHANNEL": self.CHANNEL,
        })
        process = subprocess.Popen(
            self.command() + ["--state-file", self.state, "--max-events", str(max_events)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        return process, Lines(process.stdout)

    def finish(self, process, lines):
        out = lines.drain()
        err = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
        self.assertEqual(process.wait(timeout=TIMEOUT), 0, f"stdout: {out}\nstderr: {err}")
        self.outputs.append("\n".join(out) + err)
        return out

    def publish(self, n):
        return int(self.model.command(f'PUBLISH {self.CHANNEL} {{"OrderNumber__c":"{n}"}}').split()[1])

    def test_refresh_and_resume(self):
        # The first run: 2 events, the token expires, 2 more while the
        # example refreshes it: all 4, once each.
        process, lines = self.run_example(4)
        lines.wait_for(lambda line: line.startswith("subscribed "))
        self.publish(1)
        self.publish(2)
        lines.wait_for(lambda line: line.startswith("event 2 "))
        self.model.command("EXPIRE_TOKEN")
        self.publish(3)
        self.publish(4)
        out = self.finish(process, lines)
        events = [line for line in out if line.startswith("event ")]
        self.assertEqual(events, [f'event {n} {{"OrderNumber__c":"{n}"}}' for n in range(1, 5)])
        self.assertIn("token refreshed", out)
        self.assertIn("handshakes=2 refreshes=1", self.model.command("STATS"))
        self.assertTrue(os.path.exists(self.state))

        # While it is not running, 2 more; the second run resumes after 4.
        self.publish(5)
        self.publish(6)
        process, lines = self.run_example(2)
        out = self.finish(process, lines)
        self.assertIn(f"resuming {self.CHANNEL} after 4", out)
        events = [line for line in out if line.startswith("event ")]
        self.assertEqual(events, [f'event {n} {{"OrderNumber__c":"{n}"}}' for n in (5, 6)])


class CExampleTest(ExampleTest, unittest.TestCase):
    def command(self):
        return [C_EXAMPLE]


class PythonExampleTest(ExampleTest, unittest.TestCase):
    def command(self):
        return [sys.executable, os.path.join(EXAMPLES_DIR, "salesforce.py")]


if __name__ == "__main__":
    unittest.main(verbosity=2)
