# hikvision http: ISAPI. Unauthenticated endpoints answer; the others ask
# for Digest (realm "IP Camera(<realm_id>)", qop="auth", hex-of-base64
# nonce). The right Digest for admin/12345 gets the device's XML from the
# identity; a wrong one and a Basic one (Basic is not accepted) are
# captured as failed logins with the whole Digest exchange.
open http 80
> GET /SDK/activateStatus HTTP/1.1\r\nHost: cam\r\n\r\n
> GET /ISAPI/Security/sessionLogin/capabilities?username=admin HTTP/1.1\r\nHost: cam\r\n\r\n
> GET /ISAPI/System/deviceInfo HTTP/1.1\r\nHost: cam\r\n\r\n
> GET /ISAPI/System/deviceInfo HTTP/1.1\r\nHost: cam\r\nAuthorization: Digest username="admin", realm="IP Camera(60414)", nonce="4e6a6b314e7a4d3159545536596a5268595455324e54633d", uri="/ISAPI/System/deviceInfo", response="a92488b2734980dcf33c90cf05b00369", qop=auth, nc=00000001, cnonce="0a4f113b"\r\n\r\n
> GET /ISAPI/Security/userCheck HTTP/1.1\r\nHost: cam\r\nAuthorization: Digest username="admin", realm="IP Camera(60414)", nonce="4e6a6b314e7a4d3159545536596a5268595455324e54633d", uri="/ISAPI/Security/userCheck", response="894b0373e2a7f568ccfb7fa80e01e620", qop=auth, nc=00000001, cnonce="0a4f113b"\r\n\r\n
> GET /ISAPI/Security/userCheck HTTP/1.1\r\nHost: cam\r\nAuthorization: Basic YWRtaW46MTIzNDU=\r\n\r\n
> PUT /ISAPI/System/time HTTP/1.1\r\nHost: cam\r\nContent-Length: 7\r\nAuthorization: Digest username="admin", realm="IP Camera(60414)", nonce="4e6a6b314e7a4d3159545536596a5268595455324e54633d", uri="/ISAPI/System/time", response="6458524f40962a0bcd5b80552a2fa44b", qop=auth, nc=00000001, cnonce="0a4f113b"\r\n\r\n<Time/>
close
