# connect_timeout: no handshake answer in 10 s, a reset (nothing sent)
open mysql 3306
> \x10\x00\x00\x01root
+ 9999
+ 2
close
