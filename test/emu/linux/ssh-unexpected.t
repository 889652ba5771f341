# a NEWKEYS before any KEXINIT: SSH_MSG_UNIMPLEMENTED for sequence number 0
# (not strict KEX: no KEXINIT of the client yet); then a bad packet length
# closes without a word, once a whole first block (8 bytes) is in: fewer
# and sshd waits
open ssh 22
> SSH-2.0-x\r\n
> \x00\x00\x00\x0c\x0a\x15AAAAAAAAAA
> \x7f\xff\xff\xff
> AAAA
