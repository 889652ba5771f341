# sequence 1 but 2 bytes long: "Bad handshake" (sequence 2), a close
open mysql 3306
> \x02\x00\x00\x01\x01\x02
close
