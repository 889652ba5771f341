# after a good version line: a packet with padding length 2 is taken (no
# minimum in dropbear), an early NEWKEYS gets UNIMPLEMENTED (seq 1), a
# SERVICE_REQUEST before KEXINIT ends it (ses.requirenext)
open ssh 22
> SSH-2.0-x\rfoo\r\n
> \x00\x00\x00\x0c\x02\x02AAAAAAAAAA
> \x00\x00\x00\x0c\x0a\x15AAAAAAAAAA
> \x00\x00\x00\x14\x05\x05\x00\x00\x00\x0cssh-userauthAAAAA
close
