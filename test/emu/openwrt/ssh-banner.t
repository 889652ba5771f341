# OpenWrt's dropbear: "SSH-2.0-dropbear" (no version: OpenWrt's LOCAL_IDENT)
# and its KEXINIT at once (no ECDH, no strict KEX, no zlib). Its version
# test is only the prefix "SSH-2.": "SSH-2.0x" is taken and the KEXINIT
# awaited; "SSH-1.5" closes without a word
open ssh 22
> SSH-2.0x\r\n
close
open ssh 22
> SSH-1.5-x\r\n
close
