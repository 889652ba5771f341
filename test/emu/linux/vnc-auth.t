# RFB 3.8: the security types, VNC authentication's challenge, a wrong
# response: 100 ms later SecurityResult 1 with Xvnc's reason, and a close
open vnc 5900
> RFB 003.008\n
> \x02
> \x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11
+ 50
+ 60
close
# RFB 3.7 and 3.3 (3.5 is served as 3.3): the result has no reason
open vnc 5900
> RFB 003.007\n
> \x02
> \x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11
+ 110
close
open vnc 5900
> RFB 003.005\n
> \x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11\x11
+ 110
close
