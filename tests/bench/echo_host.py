#!/usr/bin/env python3
# A trivial native messaging echo host, for attribution in scripts/bench: the
# same ping loop through Chromium against a host that does nothing shows how
# much of a round trip is the browser's native messaging path itself.
import sys, struct, os
i=sys.stdin.buffer; o=sys.stdout.buffer
while True:
    h=i.read(4)
    if len(h)<4: break
    n=struct.unpack('<I',h)[0]; b=i.read(n)
    if b.startswith(b'{"id":0'):
        r=b'{"id":0,"result":{}}'
    else:
        r=b
    o.write(struct.pack('<I',len(r))+r); o.flush()
