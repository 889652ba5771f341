# a first packet that is no handshake answer (HTTP): "Got packets
# out of order" as sequence 1, a request event, a reset
open mysql 3306
> GET / HTTP/1.0\r\n\r\n
close
