# sdk on 8000: silent on connect; the 16-byte answer nmap knows follows the
# first bytes the client sends (once); every chunk is captured
open banner 8000
> \r\n\r\n
> \x00\x00\x00\x20\x5a\x00\x00\x00admin\x00\x00\x00
close
