# discovery on 3702/udp: an ONVIF Probe (as ONVIF Device Manager sends it)
# gets ProbeMatches relating to its MessageID; a Probe for other types is
# logged and not answered; so is a datagram that is no Probe
open discovery 3702 udp
> <?xml version="1.0" encoding="utf-8"?><Envelope xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns="http://www.w3.org/2003/05/soap-envelope"><Header><wsa:MessageID xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">uuid:0a6dc791-2be6-4991-9af1-454778a1917a</wsa:MessageID><wsa:To xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To><wsa:Action xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action></Header><Body><Probe xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Types>dn:NetworkVideoTransmitter</Types><Scopes /></Probe></Body></Envelope>
close
open discovery 3702 udp
> <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><a:MessageID>urn:uuid:a&amp;b&c"d</a:MessageID></s:Header><s:Body><d:Probe><d:Types>wsdp:Device pub:Computer</d:Types></d:Probe></s:Body></s:Envelope>
close
open discovery 3702 udp
> \x00\x01 hello
close
open discovery 3702 udp
> <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:MessageID>id&amp;1&x"y</a:MessageID></s:Header><s:Body><d:Probe xmlns:d='http://schemas.xmlsoap.org/ws/2005/04/discovery'/></s:Body></s:Envelope>
close
# only a well-formed SOAP envelope whose Body holds a Probe of the 2005/04
# WS-Discovery namespace is answered: not a bare Probe (the 8-byte probe of
# reflection attacks, or with its namespace), not one of another namespace
# or with an undeclared prefix (the nearest declaration counts), not
# unbalanced tags, not a second root, not text outside the envelope
open discovery 3702 udp
> <Probe/>
close
open discovery 3702 udp
> <d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><a:MessageID>id&amp;1&x"y</a:MessageID></d:Probe>
close
open discovery 3702 udp
> <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:Probe xmlns:d="http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01"/></s:Body></s:Envelope>
close
open discovery 3702 udp
> <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><d:Probe/></s:Body></s:Envelope>
close
open discovery 3702 udp
> <s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body><d:Probe xmlns:d="urn:other"/></s:Body></s:Envelope>
close
open discovery 3702 udp
> <Envelope xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Body><d:Probe></Body></d:Probe></Envelope>
close
open discovery 3702 udp
> <Envelope xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Body><d:Probe/></Body></Envelope><Envelope/>
close
open discovery 3702 udp
> <Envelope xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Body><d:Probe/></Body></Envelope>x
close
open discovery 3702 udp
> <Envelope xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><Header><d:Probe/></Header></Envelope>
close
