//! The store's error responses: `{ "error": code, "message", "remediation" }`
//! with a 4xx status for anything a client did, and every message the HTTP
//! layer itself writes.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub remediation: String,
}

impl ApiError {
    pub fn new(
        status: u16,
        code: &'static str,
        message: impl Into<String>,
        remediation: impl Into<String>,
    ) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
            remediation: remediation.into(),
        }
    }

    pub fn bad_request(
        code: &'static str,
        message: impl Into<String>,
        remediation: impl Into<String>,
    ) -> Self {
        Self::new(400, code, message, remediation)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            404,
            "not_found",
            what,
            "check the path; the API lives under /v1",
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "too_large",
            format!("the request body is larger than {limit} bytes"),
            "send a smaller body; entries are at most 64 KiB, evidence blobs at most 8 MiB",
        )
    }

    pub fn unreadable_body() -> Self {
        Self::new(
            400,
            "bad_body",
            "the request body could not be read: the connection broke or its framing is invalid",
            "send the body again with a correct Content-Length or chunked encoding",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "method_not_allowed",
            "this endpoint does not take that method",
            "use a method listed in the Allow header; see the API in DESIGN.md §4",
        )
    }

    pub fn slow_client() -> Self {
        Self::new(
            408,
            "request_timeout",
            "the request body did not arrive in time",
            "retry on a better connection",
        )
    }

    /// The store-wide budget of request bytes in flight stayed full.
    pub fn busy() -> Self {
        Self::new(
            503,
            "busy",
            "the store is reading too many request bodies at once",
            "retry in a few seconds",
        )
    }

    pub fn rate_limited() -> Self {
        Self::new(
            429,
            "rate_limited",
            "too many requests for this key",
            "slow down and retry after a second",
        )
    }

    pub fn forbidden(message: impl Into<String>, remediation: impl Into<String>) -> Self {
        Self::new(403, "forbidden", message, remediation)
    }

    pub fn replayed_nonce() -> Self {
        Self::new(
            401,
            "replayed_nonce",
            "this request's signature nonce was already used",
            "sign every request with a fresh nonce (tollgate does this for you)",
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            503,
            "unavailable",
            message,
            "the store could not complete the request; retry shortly",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = crate::wire::ErrorBody {
            error: self.code.to_string(),
            message: self.message,
            remediation: self.remediation,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}
