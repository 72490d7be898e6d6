//! causalkit
