/* TEST VECTORS ONLY: keys generated for these tests (and the public RFC 8037 key); never used elsewhere.
 * RSA_SIG and EC_SIG were made by an independent implementation (python3-cryptography)
 * over SIGNING_INPUT. */
static const char RSA_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCuZV0AnPaUbI07\n"
    "Bau/p8XikVogbFtd/dDKsEtDUbGhO8I7CpP32Or7GaFQzcVKuHuZLJJM6dw8NxfN\n"
    "s4oohW+pXic6OI0Yqy5oyD0O/DgW7HjhdanDaK5DIocZbrk/+2/Lmu5Soxk/d4/t\n"
    "Zzf+subqcoMrK2GNCKfmD8EJDYu3Y/ydUgQlYJ4KPV50NawBhzmlExvfRPQB8zg3\n"
    "2NsSCQApvsB/lAITdqm0Vi1XVEVgdJlFXrS2JjTRLwboTBlcPhFCXKhgPuxi9WrO\n"
    "3BVZlqpra3zfyfAgKs/zI9d9gOBsr/QBETpedxG5xiDhWdVDAC/bI5IY5o1FCC0c\n"
    "EGhc7/P5AgMBAAECggEAJSpP4BYTTH03udjTCbSI7OhaAyfkbsrtCIz6dR2/U6OH\n"
    "GIsADqUpKpsDMFOx1GMtX+7KPN7nwuNgzMMS0eDh83+vr24mz5eHe+gUbxGcKHJ7\n"
    "rlyjcZPo80Cz9t0MWJDOed8KJA1DD638u7SwD7TzlgoSXwxPLT2nflVkJ3g+CrZH\n"
    "alk5h+tCNPC9dZTDc6/sYe+/iz3lbVX2G8ZDli14Of4Qix435zHZzqa5nVMTj3qx\n"
    "IFwJbLcdc961sJWHoj6cu17AdI2ywQQYCiUvLmgb5DmAKZCE3HNfl7ABqC0RZ9AL\n"
    "G0vesuZTGFaJH4+9CUE5Tu9zZMlglBDS+VmTH8F2kwKBgQDj2e/kIkJKsbjTX7XM\n"
    "7kV4FdvugfY/6TqYohfqLUxnZFJZjT1X8+kNIX57v9025/RC2tbrGL3jVC75dIsv\n"
    "Hnbln5AfXifvHnHBSE72bNHzW2rsS+805NT/6gPf6H4YphWHco0ojsabIFw/WQrh\n"
    "dyi0mWIjHf2QwyetWckug+U09wKBgQDD8NaMLCAlpYDAOt5OBBBdo2mOcCa972+U\n"
    "v3Su74NyaHgFvdZ8Rf6rG+IN4VIRzkBpRr0qz946uSVOanvkGIvPgK3DViDKPktQ\n"
    "6oHqWp8UOcJKxv/xGAKDWk4DjEXPZNfnJdhlFjZAPWyah/QZmeOM4xHGccpu9U8p\n"
    "wzP2ScISjwKBgGykkScVUsis3zUicNxLTKKKwbiDDXjB66e1unN1r/Wotz9uAi76\n"
    "5UfWjanR/Vfd1/E8ybeFr51CmbdmY6tO+mBY6e6bBa2VtaX0pXoIvz8rets7Bc8R\n"
    "waJY4goUoHN+VcukyjvpgDedgX7PJUoGeElMzady+GHbPAMDSdM9HsBXAoGBAICn\n"
    "6rgvYQxXF6sg/EcNtBFH809rpISiawmojN0wt4avwd9DP0pqS0XfERc8E79NRk3Z\n"
    "/OvXgXvdhflvQdoLpAGj5HSWYQFq1dlToepXhoypQEIJWJTdxwioiwEZYd1DweAs\n"
    "oWH+q7CSpHTzP/xvZ1Ji5pD+toUU3d32JnBZDe1RAoGANR5IbELtQjllLbI0oHMh\n"
    "JcNWcD2wvAscPd2kmoXCIKyQzD7vEmsuF2l7aAbJKnRZP3uGHFzFaY2IpTdS4DRO\n"
    "+fRVrVGoTAFKdxHgcTV27cVVM1kc7b8HMZSC7daIf0DODsr/GhCoxYohVXLv6FAW\n"
    "zoZWSRhz7DfRalL4ma+wsXA=\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char RSA_SIG[] = "UJ3JhUXY7D3BFyog_kYupSfzt_cYPFNPJF2DNGueaLj_VGSZB2hR6F18JJ7A3Jh9Erpc-XE09x1jEirwn_PqVVb3imOuyGkMrK6QvvMpXwWHO7ZKAaply8YOiXXb2vBeUCebPEyvHdXkep1bBi2O03YlOC8vFknHrqe2JDU8IDBBRxsD74AqKQe1NWTqnQkpiA74BAwFHwKIBJJtt5Ti_jQZEWHNSnXyTQeXIeSmz5O8ruHzGilq8hJiBgsumq6tqdgyeKpu88vBMfoBvQWqaMncRzaqT8Uw1esUvEeyGx9DhS75n3eI9ghFnvu6cxAPpbPdVBm7hg7DDGCcnfnTXA";
static const char EC_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgzBYrbYjZJGFNQIh0\n"
    "ITcgz6md9FNx5DYnARplOWhgDfqhRANCAARkiKyi/QW/CO3nfEjqLmGaTQbXLoYc\n"
    "RG31nuNWonWPWpBedJo2NXzR45Vvw8NajqGJ1VleLhHwvnj1XkF5Vsgm\n"
    "-----END PRIVATE KEY-----\n"
    ;
static const char EC_SIG[] = "hVJXPLHA8CuLZuZ7wKSvpO_VM3aeJq-QOT0sbPq6s1LOcyFbhRo46y8hnduZ0vmPckxIF8-YWM8Iv0dIAp8l7A";
static const char SIGNING_INPUT[] = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UifQ";
