package dev.sluice.pull;

/** Where an export is kicked off: the whole system, all patients, or one Group's members. */
public sealed interface Level {
  /** The kick-off path under the FHIR base. */
  String path();

  record System() implements Level {
    @Override
    public String path() {
      return "$export";
    }
  }

  record Patients() implements Level {
    @Override
    public String path() {
      return "Patient/$export";
    }
  }

  record Group(String id) implements Level {
    @Override
    public String path() {
      return "Group/" + java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8) + "/$export";
    }
  }

  static Level system() {
    return new System();
  }

  static Level patients() {
    return new Patients();
  }

  static Level group(String id) {
    return new Group(id);
  }
}
