"""A real SMTP relay on loopback for the notification tests (aiosmtpd).

It refuses the first REFUSE messages with a temporary error (451), then accepts, and appends
every accepted message to OUT as one JSON line, after DELAY_MS (0 by default) for each. It
prints its port on stdout once listening.
Usage: smtp_relay.py OUT REFUSE [DELAY_MS]
"""
import asyncio
import json
import socket
import sys

from aiosmtpd.controller import Controller


class Relay:
    def __init__(self, out, refuse, delay):
        self.out = out
        self.refuse = refuse
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
            }) + "\n")
        return "250 OK"


def main():
    out, refuse = sys.argv[1], int(sys.argv[2])
    delay = int(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0
    # The controller checks it is up by connecting to its port, so the port must be known first.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Relay(out, refuse, delay), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
