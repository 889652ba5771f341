# what Xvnc does with odd versions: 3.889 (Apple) is 3.8, 4.0 is refused
# with a reason, garbage is closed without a word; a response that came
# with the version waits for more input (as Xvnc's reads do)
open vnc 5900
> RFB 003.889\n
> \x05
close
open vnc 5900
> RFB 004.001\n
close
open vnc 5900
> GET / HTTP/1.0\r\n\r\n
close
open vnc 5900
> RFB 003.003\n\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11
+ 200
> \x00
+ 110
close
