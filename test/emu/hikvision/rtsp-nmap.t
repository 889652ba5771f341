# rtsp on 554: what nmap -sV sends: GET (HTTP), OPTIONS without CSeq, then
# the SIP OPTIONS probe whose answer names the camera (CSeq echoed as is)
open rtsp 554
> GET / HTTP/1.0\r\n\r\n
> OPTIONS / RTSP/1.0\r\n\r\n
> OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/TCP nm;branch=foo\r\nFrom: <sip:nm@nm>;tag=root\r\nTo: <sip:nm2@nm2>\r\nCall-ID: 50000\r\nCSeq: 42 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\nContact: <sip:nm@nm>\r\nAccept: application/sdp\r\n\r\n
close
