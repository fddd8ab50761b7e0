package qmpd.config.schema;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a record component as an optional QAPI member ({@code '*name'} in QEMU's schema): it may be
 * absent, in which case the component is {@code null}. Unmarked components are required. A
 * {@code null} on the wire is never accepted for either (QEMU 7.2 rejects it).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.PARAMETER, ElementType.FIELD, ElementType.METHOD})
public @interface OptionalMember {
}
