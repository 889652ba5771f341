# a first packet of garbage (a TLS ClientHello's start): no line end, no
# answer; then an HTTP request: Redis closes without a word
open redis 6379
> \x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03
close
open redis 6379
> GET / HTTP/1.1\r\nHost: x\r\n\r\n
