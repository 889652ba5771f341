# rtsp on 554: the exchange ffmpeg (Lavf) has with the camera: OPTIONS is
# answered, DESCRIBE gets the Digest + Basic challenge (fresh nonce each
# time), the Digest answer is logged and refused again
open rtsp 554
> OPTIONS rtsp://127.0.0.1:554/Streaming/Channels/101 RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf59.27.100\r\n\r\n
> DESCRIBE rtsp://127.0.0.1:554/Streaming/Channels/101 RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 2\r\nUser-Agent: Lavf59.27.100\r\n\r\n
> DESCRIBE rtsp://127.0.0.1:554/Streaming/Channels/101 RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 3\r\nUser-Agent: Lavf59.27.100\r\nAuthorization: Digest username="admin", realm="IP Camera(00000)", nonce="0123456789abcdef0123456789abcdef", uri="rtsp://127.0.0.1:554/Streaming/Channels/101", response="8a5f1b1a4e2c8b2f0e1d6c3b2a190807"\r\n\r\n
> SETUP rtsp://127.0.0.1:554/Streaming/Channels/101/trackID=1 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nCSeq: 4\r\n\r\n
close
