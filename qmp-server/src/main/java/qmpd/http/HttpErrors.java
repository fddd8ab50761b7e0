package qmpd.http;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import qmpd.qmp.server.QmpReply;

/**
 * The one place where QMP outcomes become HTTP statuses (the table is in docs/http.md), and the
 * body of errors the gateway itself raises: {@code {"error": {"class": ..., "desc": ...}}}, the
 * shape of a QMP error response.
 *
 * <p>QEMU reports both a duplicate id and an object in use as {@code GenericError}, the class it
 * also uses for bad arguments, so the class alone cannot tell a conflict from a bad request. The
 * resource routes tell them apart by context: they look the resource up again after the change
 * failed ({@link Collection}), and a GenericError while the resource exists is a conflict (409).
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

    /**
     * A create (POST on a collection) failed with {@code outcome}; {@code existsNow}: the name is
     * taken now. blockdev-add ("Duplicate nodes with node-name='x'"), block-export-add ("Block export
     * id 'x' is already in use") and object-add ("attempt to add duplicate property 'x'...") all
     * answer GenericError: with the name taken, that is 409.
     */
    static int createFailed(String outcome, boolean existsNow) {
        return existsNow && outcome.equals("GenericError") ? 409 : status(outcome);
    }

    /**
     * A delete of an entry that still exists failed with {@code outcome}: GenericError then means
     * its state forbids it (blockdev-del "Block device x is in use", block-export-del "export 'x'
     * still in use", object-del of an IOThread a node uses), so 409. An absent entry is 404 before
     * this is asked.
     */
    static int deleteFailed(String outcome, boolean existsNow) {
        return existsNow && outcome.equals("GenericError") ? 409 : status(outcome);
    }

    /** A QMP error class (the client's fault or the object's state), not a bug in a command. */
    static boolean isUserError(String outcome) {
        return !outcome.equals(QmpReply.INTERNAL) && !outcome.equals(QmpReply.OK);
    }

    /** An error body of the QMP shape. */
    static ObjectNode body(String errorClass, String desc) {
        ObjectNode rsp = JsonNodeFactory.instance.objectNode();
        rsp.putObject("error").put("class", errorClass).put("desc", desc);
        return rsp;
    }
}
