# VeNCrypt (19): version 0.2, sub-types VncAuth and TLSVnc; sub-type 2 goes
# on to the challenge; an old version gets 0xFF and the failure; TLSVnc's
# go-ahead, then input that is no TLS record: an alert and the failure
open vnc 5900
> RFB 003.008\n
> \x13
> \x00\x02
> \x00\x00\x00\x02
> \x22\x22\x22\x22\x22\x22\x22\x22\x22\x22\x22\x22\x22\x22\x22\x22
+ 110
close
open vnc 5900
> RFB 003.008\n
> \x13
> \x00\x01
+ 110
close
open vnc 5900
> RFB 003.008\n
> \x13\x00\x02\x00\x00\x01\x02
> GET /\r\n
+ 110
close
