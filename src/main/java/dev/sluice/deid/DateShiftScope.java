package dev.sluice.deid;

/**
 * Which key the date-shift offset is derived from, besides {@code dateShiftKey}. {@code RESOURCE}, {@code FILE} and
 * {@code FOLDER} are the reference engine's; {@code PATIENT} is Sluice's: one offset for every resource of a patient,
 * so intervals between a patient's events survive.
 */
public enum DateShiftScope {
    RESOURCE,
    FILE,
    FOLDER,
    PATIENT
}
