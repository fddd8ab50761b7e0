package qmpd.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.qmp.server.QmpReply;

/**
 * The one place where QMP outcomes become HTTP statuses (documented in docs/http.md), and the body
 * of errors the gateway itself raises: {@code {"error": {"class": ..., "desc": ...}}}, the shape of a
 * QMP error response.
 */
final class HttpErrors {
    private HttpErrors() {
    }

    /** The status for a reply's outcome ({@code ok}, a QMP error class, or {@code internal}). */
    static int status(String outcome) {
        return switch (outcome) {
            case QmpReply.OK -> 200;
            case "CommandNotFound", "DeviceNotFound" -> 404;
            case "DeviceNotActive" -> 409;
            case QmpReply.INTERNAL -> 500;
            default -> 400;   // GenericError, KVMMissingCap: the request cannot succeed as sent
        };
    }

    /** An error body of the QMP shape. */
    static ObjectNode body(String errorClass, String desc) {
        ObjectNode rsp = JsonNodeFactory.instance.objectNode();
        rsp.putObject("error").put("class", errorClass).put("desc", desc);
        return rsp;
    }
}
