function doLogin() {
	var u = document.getElementById("username").value;
	var p = document.getElementById("password").value;
	var x = new XMLHttpRequest();
	x.open("GET", "/ISAPI/Security/userCheck?timeStamp=" + (new Date()).getTime(), true, u, p);
	x.onreadystatechange = function () {
		if (x.readyState !== 4) return;
		if (x.status === 200) {
			window.location.href = "main.asp";
		} else {
			document.getElementById("tip").innerHTML = "Incorrect user name or password.";
		}
	};
	x.send(null);
	return false;
}
