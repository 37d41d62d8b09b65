package dev.sluice.auth;

/** The five SMART v2 permission letters, in the order a v2 scope must list them ({@code cruds}). */
public enum Permission {
  CREATE('c'), READ('r'), UPDATE('u'), DELETE('d'), SEARCH('s');

  private final char letter;

  Permission(char letter) {
    this.letter = letter;
  }

  public char letter() {
    return letter;
  }
}
