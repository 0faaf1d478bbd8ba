package binance

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"
)

const (
	vectorKey    = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
	vectorSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
)

// paramsOf splits a k=v&… payload into params, shuffling nothing: payload
// must put them back in name order by itself.
func paramsOf(t *testing.T, s string) params {
	t.Helper()
	p := params{}
	for _, kv := range strings.Split(s, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("bad pair %q", kv)
		}
		p[k] = v
	}
	return p
}

// TestHMACVectors signs Binance's published payloads (REFERENCE.md).
func TestHMACVectors(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		payload string
		sorted  bool // the payload is in name order: payload(params) must rebuild it
		want    string
	}{
		{
			name:    "limit order",
			secret:  vectorSecret,
			payload: "apiKey=" + vectorKey + "&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
			sorted:  true,
			want:    "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24",
		},
		{
			name:    "full-width symbol signed as raw UTF-8",
			secret:  vectorSecret,
			payload: "apiKey=" + vectorKey + "&price=0.10000000&quantity=1.00000000&recvWindow=5000&side=BUY&symbol=１２３４５６&timeInForce=GTC&timestamp=1645423376532&type=LIMIT",
			sorted:  true,
			want:    "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd",
		},
		{
			name:    "logon",
			secret:  vectorSecret,
			payload: "apiKey=" + vectorKey + "&timestamp=1649729878532",
			sorted:  true,
			want:    "1cf54395b336b0a9727ef27d5d98987962bc47aca6e13fe978612d0adee066ed",
		},
		{
			name:    "signed in the order given",
			secret:  "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
			payload: "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943",
			want:    "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := hmacSigner{secret: []byte(tt.secret)}
			if got := s.sign(tt.payload); got != tt.want {
				t.Errorf("sign = %s, want %s", got, tt.want)
			}
			if !tt.sorted {
				return
			}
			p := paramsOf(t, tt.payload)
			p["signature"] = "ignored"
			if got := payload(p); got != tt.payload {
				t.Errorf("payload = %s, want %s", got, tt.payload)
			}
			if got := s.sign(payload(p)); got != tt.want {
				t.Errorf("sign(payload(params)) = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestPayloadRawValues: no percent-encoding and INT parameters as digits.
func TestPayloadRawValues(t *testing.T) {
	p := params{
		"newClientOrderId": "a:b/c.d_e-f",
		"symbol":           "１２３４５６",
		"timestamp":        int64(1649729878532),
		"recvWindow":       int64(5000),
		"reduceOnly":       "true",
	}
	want := "newClientOrderId=a:b/c.d_e-f&recvWindow=5000&reduceOnly=true&symbol=１２３４５６&timestamp=1649729878532"
	if got := payload(p); got != want {
		t.Errorf("payload = %s\nwant      %s", got, want)
	}
}

// TestEd25519RFC8032 checks the signer against RFC 8032 section 7.1's
// first three test vectors.
func TestEd25519RFC8032(t *testing.T) {
	tests := []struct{ seed, public, message, signature string }{
		{
			"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
			"",
			"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
		},
		{
			"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
			"72",
			"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
		},
		{
			"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
			"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
			"af82",
			"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
		},
	}
	for i, tt := range tests {
		seed, _ := hex.DecodeString(tt.seed)
		msg, _ := hex.DecodeString(tt.message)
		key := ed25519.NewKeyFromSeed(seed)
		if got := hex.EncodeToString(key.Public().(ed25519.PublicKey)); got != tt.public {
			t.Errorf("vector %d: public key %s, want %s", i+1, got, tt.public)
		}
		sig := ed25519Signer{key: key}.sign(string(msg))
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			t.Fatalf("vector %d: signature is not base64: %v", i+1, err)
		}
		if got := hex.EncodeToString(raw); got != tt.signature {
			t.Errorf("vector %d: signature %s, want %s", i+1, got, tt.signature)
		}
	}
}

// TestEd25519SignThenVerify signs a logon payload with a fresh key read
// back from PKCS#8 PEM and verifies it with the public key.
func TestEd25519SignThenVerify(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	key, err := parseEd25519PEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	p := params{"apiKey": vectorKey, "timestamp": int64(1649729878532), "symbol": "１２３４５６"}
	sig, err := base64.StdEncoding.DecodeString(ed25519Signer{key: key}.sign(payload(p)))
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(pub, []byte(payload(p)), sig) {
		t.Error("signature does not verify")
	}
	p["timestamp"] = int64(1649729878533)
	if ed25519.Verify(pub, []byte(payload(p)), sig) {
		t.Error("signature verifies a changed payload")
	}
}

func TestParseEd25519PEMRefuses(t *testing.T) {
	_, rsaLike, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(rsaLike)
	for name, data := range map[string][]byte{
		"empty":         nil,
		"not pem":       []byte("hello"),
		"wrong type":    pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}),
		"garbage bytes": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("xx")}),
	} {
		if _, err := parseEd25519PEM(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
