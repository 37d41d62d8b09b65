package dev.sluice.fhir;

/**
 * Stable codes of the messages a user or an operator may search for (HAPI's {@code Msg.code}
 * does the same). Rendered as {@code issue.details.coding} with {@link #SYSTEM}; a number is
 * never reused for another meaning, and the words of a message may change while its code stays.
 */
public enum MessageCode {
  EXPORT_ACCEPTED(1001),
  EXPORT_FAILED(1002),
  EXPORT_PART_FAILED(1003),
  EXPORT_STORE_UNREACHABLE(1004),
  EXPORT_PLANNING_FAILED(1005),
  EXPORT_DEID_FAILED(1006),
  EXPORT_DEID_RESOURCE_LEFT_OUT(1007),
  EXPORT_ELEMENTS_RESOURCE_LEFT_OUT(1008),
  EXPORT_PARAMETER_IGNORED(1009),
  EXPORT_CANCELLED(1010),
  EXPORT_GROUP_MEMBER_ELSEWHERE(1011),
  EXPORT_GROUP_TOO_DEEP(1012),
  EXPORT_DEID_RANDOM_KEY(1013),
  EXPORT_VALUE_IGNORED(1014),
  INTERNAL_ERROR(1500);

  /** The code system of Sluice's message codes. */
  public static final String SYSTEM = "https://sluice.dev/fhir/message-code";

  private final int number;

  MessageCode(int number) {
    this.number = number;
  }

  /** The message of a code that {@link #code()} gave; empty for codes this version does not know. */
  public static java.util.Optional<MessageCode> ofCode(String code) {
    for (MessageCode m : values()) {
      if (m.code().equals(code)) {
        return java.util.Optional.of(m);
      }
    }
    return java.util.Optional.empty();
  }

  /** {@code SLUICE-<number>}: what logs, docs and {@code details.coding.code} show. */
  public String code() {
    return "SLUICE-" + number;
  }
}
