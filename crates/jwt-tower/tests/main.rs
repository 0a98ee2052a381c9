//! Integration tests of jwt-tower: real servers on 127.0.0.1.
