# every connection from an address counts: the sixth meets the blacklist
# (version 3.3, type 0, "Too many security failures"); 10 s later one is
# let in again
open vnc 5900
close
open vnc 5900
close
open vnc 5900
close
open vnc 5900
close
open vnc 5900
close
open vnc 5900
close
+ 10100
open vnc 5900
close
open vnc 5900
close
