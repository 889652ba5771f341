# rtsp on 554: Basic credentials, credentials in the URL, a body skipped,
# an interleaved frame skipped, pipelined requests, split input
open rtsp 554
> DESCRIBE rtsp://root:pass123@10.0.0.1:554/h264/ch1/main/av_stream RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic YWRtaW46MTIzNDU=\r\n\r\n
> SET_PARAMETER rtsp://10.0.0.1/ RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 10\r\n\r\nabc
> defghijOPTIONS * RTSP/1.0\r\nCSe
> q: 3\r\n\r\n$\x00\x00\x04abcdOPTIONS * RTSP/1.0\r\nCSeq: 4\r\n\r\n
close
# Digest with qop (what some scanners send whatever the challenge said):
# every parameter is logged for offline cracking
open rtsp 554
> PLAY rtsp://10.0.0.1:554/Streaming/Channels/102 RTSP/1.0\r\nCSeq: 5\r\nAuthorization: Digest username="admin", realm="IP Camera(60414)", nonce="b8754f196def1adebde4133f2d7d37f5", uri="rtsp://10.0.0.1:554/Streaming/Channels/102", algorithm=MD5, response="00112233445566778899aabbccddeeff", qop=auth, nc=00000001, cnonce="0a4f113b"\r\n\r\n
close
# Digest answers for common passwords (rtsp.guess) are logged in clear:
# 12345 without qop, Admin12345 with qop=auth
open rtsp 554
> DESCRIBE rtsp://10.0.0.1:554/Streaming/Channels/101 RTSP/1.0\r\nCSeq: 6\r\nAuthorization: Digest username="admin", realm="IP Camera(60414)", nonce="b8754f196def1adebde4133f2d7d37f5", uri="rtsp://10.0.0.1:554/Streaming/Channels/101", response="da416b2b801f896cd0c8e21a99169843"\r\n\r\n
> SETUP rtsp://10.0.0.1:554/Streaming/Channels/101 RTSP/1.0\r\nCSeq: 7\r\nAuthorization: Digest username="admin", realm="IP Camera(60414)", nonce="b8754f196def1adebde4133f2d7d37f5", uri="rtsp://10.0.0.1:554/Streaming/Channels/101", response="f0b83e343d66389ac5b1146f08fc5c6d", qop=auth, nc=00000001, cnonce="0a4f113b"\r\n\r\n
close
