package dev.sluice.export;

import dev.sluice.deid.AnonymizationConfig;
import dev.sluice.deid.Method;
import dev.sluice.deid.Rule;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.store.ExportJobRow;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The warnings of an export, written by its notes part as OperationOutcomes in the manifest's
 * {@code error} files: parameters and values left out under {@code Prefer: handling=lenient}, Group members
 * that are not on this server (never read as local ones), and de-identification keys that the
 * configuration leaves empty (random, so what they make is not stable from export to export).
 */
public final class JobNotes {
  private final GroupMembers groups;
  private final AnonymizationConfigs anonymizations;

  public JobNotes(GroupMembers groups, AnonymizationConfigs anonymizations) {
    this.groups = groups;
    this.anonymizations = anonymizations;
  }

  /**
   * Whether an export has notes: it is then planned a notes part. {@code elsewhere} are the Group's
   * members that are not on this server, as planning found them ({@link GroupMembers}, at
   * transactionTime, so the notes part finds the same). A Group export without any is planned no
   * notes part: a part's fixed cost is a good share of a small Group's export (bench/README, target 2).
   */
  static boolean has(ExportRequest request, List<String> elsewhere) {
    return !request.ignored().isEmpty() || !elsewhere.isEmpty() || request.anonymization() != null;
  }

  List<Issue> of(ExportJobRow job, ExportRequest request) throws SQLException {
    List<Issue> notes = new ArrayList<>();
    for (Ignored ignored : request.ignored()) {
      notes.add(ignored.value() == null
          ? Issue.warning(Issue.Code.NOT_SUPPORTED, "The parameter '" + ignored.parameter()
              + "' is not supported and was ignored (Prefer: handling=lenient)", ignored.parameter())
              .withMessage(MessageCode.EXPORT_PARAMETER_IGNORED)
          : Issue.warning(ignored.parameter().equals("patient") ? Issue.Code.NOT_FOUND : Issue.Code.NOT_SUPPORTED,
              ignored.parameter() + " '" + ignored.value() + "' was left out (Prefer: handling=lenient): "
                  + ignored.reason(), ignored.parameter())
              .withMessage(MessageCode.EXPORT_VALUE_IGNORED));
    }
    if (request.level() instanceof ExportLevel.Group g) {
      // the same members planning found: the Group as it was at transactionTime
      for (String member : groups.of(g.groupId(), job.transactionTime(), request.base()).elsewhere()) {
        notes.add(Issue.warning(Issue.Code.NOT_FOUND, "The member " + member + " is not a resource of this server;"
            + " only relative references and references under this server's base are followed, so it was not exported",
            null).withMessage(MessageCode.EXPORT_GROUP_MEMBER_ELSEWHERE));
      }
    }
    if (request.anonymization() != null) {
      AnonymizationConfig config = anonymizations.of(job.id(), request.anonymization()).config();
      // a job queued before keys were chosen at kick-off: its keys are random per loaded configuration
      boolean perJob = !request.anonymization().randomKeys().isEmpty();
      for (String key : perJob ? request.anonymization().randomKeys() : config.parameters().randomKeys()) {
        if (uses(config, key, request)) {
          notes.add(Issue.warning(Issue.Code.INFORMATIONAL, "The anonymization configuration '"
              + request.anonymization().config() + "' leaves " + key + " empty, so a random key was chosen "
              + (perJob ? "for this export" : "when it was loaded") + ": " + effect(key, perJob) + ". Set " + key
              + " in the configuration to avoid this.", null)
              .withMessage(MessageCode.EXPORT_DEID_RANDOM_KEY));
        }
      }
    }
    return notes;
  }

  /** Whether the export applies the key: a rule's method, or pseudonyms of deleted resources. */
  private static boolean uses(AnonymizationConfig config, String key, ExportRequest request) {
    return switch (key) {
      case "cryptoHashKey" -> request.since() != null || has(config, Method.CryptoHash.class);
      case "dateShiftKey" -> config.parameters().dateShiftFixedOffsetInDays() == null
          && has(config, Method.DateShift.class);
      case "encryptKey" -> has(config, Method.Encrypt.class);
      default -> false;
    };
  }

  private static boolean has(AnonymizationConfig config, Class<? extends Method> method) {
    for (Rule rule : config.rules()) {
      if (method.isInstance(rule.method())) {
        return true;
      }
    }
    return false;
  }

  private static String effect(String key, boolean perJob) {
    String where = perJob ? "" : ", and between processes";
    return switch (key) {
      case "cryptoHashKey" -> "pseudonyms (cryptoHash) differ from one export to the next" + where;
      case "dateShiftKey" -> "date shifts differ from one export to the next" + where;
      default -> "no one can decrypt the encrypted values";
    };
  }
}
